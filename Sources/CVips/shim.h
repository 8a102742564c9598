// The parts of libvips that Parley uses, behind functions Swift can call: libvips takes its options
// as C varargs, which Swift cannot pass. Each function loads with the one loader the file's own
// bytes name (never by guessing), and returns 0 on success, -1 on failure (vips_error_buffer()).
#ifndef PARLEY_CVIPS_SHIM_H
#define PARLEY_CVIPS_SHIM_H

#include <vips/vips.h>

enum { PARLEY_JPEG = 1, PARLEY_PNG = 2, PARLEY_GIF = 3, PARLEY_WEBP = 4 };

// Starts libvips once: no operation cache (no image outlives its request), one thread per
// operation (the caller bounds how many run), and loaders that are not fuzzed (ImageMagick and the
// like) refused outright.
static inline int parley_vips_start(void) {
    if (VIPS_INIT("parley")) return -1;
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
    return 0;
}

static inline VipsImage *parley_vips_load(const void *buffer, size_t length, int format, int all_pages) {
    VipsImage *image = NULL;
    int n = all_pages ? -1 : 1;
    switch (format) {
    case PARLEY_JPEG: vips_jpegload_buffer((void *)buffer, length, &image, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    case PARLEY_PNG: vips_pngload_buffer((void *)buffer, length, &image, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    case PARLEY_GIF: vips_gifload_buffer((void *)buffer, length, &image, "n", n, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    case PARLEY_WEBP: vips_webpload_buffer((void *)buffer, length, &image, "n", n, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    default: break;
    }
    return image;
}

// Reads the size from the header alone, without decoding pixels: width, the height of one frame,
// and the number of frames.
static inline int parley_vips_header(const void *buffer, size_t length, int format, int *width, int *height, int *pages) {
    VipsImage *image = parley_vips_load(buffer, length, format, 0);
    if (!image) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    *pages = vips_image_get_n_pages(image);
    g_object_unref(image);
    return 0;
}

// Decodes every pixel (so a truncated or corrupt file fails here), turns the image upright by its
// EXIF orientation, and saves it again in its own format without metadata (EXIF, GPS, XMP, ICC
// profile, comments; a WebP's EXIF chunk is removed afterwards by WebPMetadata). An animated GIF
// or WebP keeps its frames.
static inline int parley_vips_clean(const void *buffer, size_t length, int format, void **out, size_t *out_length) {
    VipsImage *image = parley_vips_load(buffer, length, format, 1);
    if (!image) return -1;
    VipsImage *upright = NULL;
    int failed;
    if (vips_image_get_n_pages(image) > 1) {
        upright = image;
        g_object_ref(upright);
        failed = 0;
    } else {
        failed = vips_autorot(image, &upright, NULL);
    }
    g_object_unref(image);
    if (failed) return -1;
    switch (format) {
    case PARLEY_JPEG: failed = vips_jpegsave_buffer(upright, out, out_length, "Q", 88, "strip", TRUE, NULL); break;
    case PARLEY_PNG: failed = vips_pngsave_buffer(upright, out, out_length, "strip", TRUE, NULL); break;
    case PARLEY_GIF: failed = vips_gifsave_buffer(upright, out, out_length, "strip", TRUE, NULL); break;
    case PARLEY_WEBP: failed = vips_webpsave_buffer(upright, out, out_length, "Q", 88, "strip", TRUE, NULL); break;
    default: failed = -1;
    }
    g_object_unref(upright);
    return failed;
}

// A WebP still (the first frame) that fits width × height, never enlarged; with `crop`, one that
// fills it exactly, cut around the centre. Upright by EXIF orientation, without metadata.
static inline int parley_vips_thumbnail(const void *buffer, size_t length, int width, int height, int crop, void **out, size_t *out_length) {
    VipsImage *thumbnail = NULL;
    int failed = crop
        ? vips_thumbnail_buffer((void *)buffer, length, &thumbnail, width, "height", height, "crop", VIPS_INTERESTING_CENTRE, NULL)
        : vips_thumbnail_buffer((void *)buffer, length, &thumbnail, width, "height", height, "size", VIPS_SIZE_DOWN, NULL);
    if (failed) return -1;
    failed = vips_webpsave_buffer(thumbnail, out, out_length, "Q", 80, "strip", TRUE, NULL);
    g_object_unref(thumbnail);
    return failed;
}

#endif
