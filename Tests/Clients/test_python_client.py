"""A Python client generated from openapi.yaml by openapi-python-client: the generator says nothing
beyond the warnings allowed below, and the client it makes drives a live server through a short
session — two users, a group, messages, history and an image."""

import io
import re
import subprocess
import sys
import uuid
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ROOT

# What openapi-python-client may print about openapi.yaml beyond its boilerplate: nothing. The
# spec's image bodies, which this generator would skip, are read as bytes through
# Tests/Clients/openapi-python-client.yaml. A warning the spec cannot honestly avoid would be listed
# here, with why; the test fails on any warning not listed AND on any listed one no longer printed.
ALLOWED_WARNINGS = []

# Generated modules that use `Unset` without importing it: openapi-python-client 0.29.1 does that for
# a required request body with several content types (its issue #1451), here POST /uploads. The test
# adds the import, and fails once the generator no longer needs it, so the patch goes with the bug.
MISSING_UNSET_IMPORT = ["api/media/upload_image.py"]

BOILERPLATE = [
    "Warning(s) encountered while generating. Client was generated, but some pieces may be missing",
    "If you believe this was a mistake or this tool is missing a feature you need, please open an issue at "
    "https://github.com/openapi-generators/openapi-python-client/issues/new/choose",
]
BLOCK = re.compile(r"^(WARNING|ERROR) parsing (\S+ \S+) within \S+\.\n\n(.+?)\n(?:\n\{\n.*?^\}\n?)?", re.M | re.S)
PNG = (ROOT / "Postman" / "teapot.png").read_bytes()
PASSWORD = "correct horse battery"


def generator_warnings(output):
    """Every warning in the generator's output, one line each; text it cannot place counts too."""
    warnings = []

    def keep(match):
        detail = re.sub(r"<[\w.]+ object at 0x[0-9a-f]+>", "<…>", match[3].strip())
        warnings.append(f"{match[1]} {match[2]}: {detail}")
        return ""
    rest = BLOCK.sub(keep, output)
    for line in rest.splitlines():
        if line.strip() and line.strip() not in BOILERPLATE and not line.startswith("Generating "):
            warnings.append(f"unexpected output: {line.strip()}")
    return warnings


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(package folder, warnings): the client generated from openapi.yaml into a temporary folder."""
    folder = tmp_path_factory.mktemp("python-client")
    package = folder / "parley_client"
    answer = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", ROOT / "openapi.yaml",
         "--meta", "none", "--output-path", package, "--config", ROOT / "Tests" / "Clients" / "openapi-python-client.yaml"],
        capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    return package, generator_warnings(answer.stdout + answer.stderr)


@pytest.fixture(scope="module")
def client(generated):
    """The generated package, imported (with the one import the generator forgets, see above)."""
    package, _ = generated
    patched = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        imports = "\n".join(line for line in text.splitlines() if line.startswith(("from ", "import ")))
        if path.name != "types.py" and re.search(r"\bUnset\b", text) and not re.search(r"\bUnset\b", imports):
            depth = len(path.relative_to(package).parts)
            path.write_text(f"from {'.' * depth}types import Unset\n" + text)
            patched.append(path.relative_to(package).as_posix())
    assert patched == MISSING_UNSET_IMPORT, \
        f"generated modules that use Unset without importing it: {patched} (update MISSING_UNSET_IMPORT)"
    sys.path.insert(0, str(package.parent))
    try:
        import parley_client
        from parley_client.api.auth import register
        from parley_client.api.conversations import create_group
        from parley_client.api.media import get_media, upload_image
        from parley_client.api.messages import list_messages, send_message
        yield {"package": parley_client, "register": register, "create_group": create_group,
               "send_message": send_message, "list_messages": list_messages,
               "upload_image": upload_image, "get_media": get_media}
    finally:
        sys.path.remove(str(package.parent))
        for name in [m for m in sys.modules if m == "parley_client" or m.startswith("parley_client.")]:
            del sys.modules[name]


def test_generator_warns_only_as_allowed(generated):
    _, warnings = generated
    unexpected = list((Counter(warnings) - Counter(ALLOWED_WARNINGS)).elements())
    stale = list((Counter(ALLOWED_WARNINGS) - Counter(warnings)).elements())
    assert not unexpected, "openapi-python-client warns about openapi.yaml:\n" + "\n".join(unexpected)
    assert not stale, "allowed warnings no longer printed; take them out of ALLOWED_WARNINGS:\n" + "\n".join(stale)


def test_generated_client_drives_a_session(client, server):
    from parley_client import AuthenticatedClient, Client
    from parley_client.models import CreateGroupRequest, MediaVariant, RegisterRequest, SendMessageRequest, UploadForm
    from parley_client.types import File

    base = f"{server.url}/api/v1"
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)

    def sign_up(name, display):
        username = f"{name}_{uuid.uuid4().hex[:6]}"
        answer = client["register"].sync_detailed(client=anonymous, body=RegisterRequest(
            username=username, email=f"{username}@example.com", password=PASSWORD, display_name=display))
        assert answer.status_code == 201, answer.content
        assert answer.parsed.user.username == username and answer.parsed.user.display_name == display
        assert answer.parsed.expires_in == 900 and answer.parsed.refresh_token.startswith("rt_")
        return answer.parsed.user, AuthenticatedClient(base_url=base, token=answer.parsed.access_token,
                                                       raise_on_unexpected_status=True)

    alice, as_alice = sign_up("alice", "Alice")
    bob, as_bob = sign_up("bob", "Bob")

    group = client["create_group"].sync_detailed(client=as_alice, body=CreateGroupRequest(
        title="Lobster quadrille", member_ids=[bob.id]))
    assert group.status_code == 201, group.content
    group = group.parsed
    assert (group.kind.value, group.title, group.member_count, group.my_role.value) == ("group", "Lobster quadrille", 2, "owner")

    sent = client["send_message"].sync_detailed(group.id, client=as_bob, body=SendMessageRequest(
        client_message_id="bob-1", body="Will you join the dance?"))
    assert sent.status_code == 201, sent.content
    assert sent.parsed.sender_id == bob.id and sent.parsed.conversation_id == group.id

    again = client["send_message"].sync_detailed(group.id, client=as_bob, body=SendMessageRequest(
        client_message_id="bob-1", body="Will you join the dance?"))
    assert again.status_code == 200 and again.parsed.id == sent.parsed.id

    # An image, once as the body and once as a form: both come back as uploads of Alice's.
    as_body = client["upload_image"].sync_detailed(client=as_alice, body=File(payload=io.BytesIO(PNG), file_name="teapot.png"))
    assert as_body.status_code == 201, as_body.content
    form = UploadForm(file=File(payload=io.BytesIO(PNG), file_name="teapot.png", mime_type="image/png"))
    as_form = client["upload_image"].sync_detailed(client=as_alice, body=form)
    assert as_form.status_code == 201, as_form.content
    upload = as_body.parsed
    assert (upload.content_type.value, upload.width, upload.height) == ("image/png", 32, 32)
    assert as_form.parsed.id != upload.id

    reply = client["send_message"].sync_detailed(group.id, client=as_alice, body=SendMessageRequest(
        client_message_id="alice-1", body="The teapot", reply_to_id=sent.parsed.id, attachments=[upload.id]))
    assert reply.status_code == 201, reply.content
    assert [a.id for a in reply.parsed.attachments] == [upload.id]

    history = client["list_messages"].sync_detailed(group.id, client=as_bob, limit=10)
    assert history.status_code == 200
    assert [(m.body, m.sender_id) for m in history.parsed.items] == [
        ("Will you join the dance?", bob.id), ("The teapot", alice.id)]
    assert history.parsed.has_more is False
    seen = history.parsed.items[1]
    assert seen.reply_to_id == sent.parsed.id and seen.attachments[0].width == 32

    # Bob fetches the thumbnail by the link handed to him; the client leaves image answers unparsed.
    link = urlsplit(seen.attachments[0].thumbnail_url)
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    image = client["get_media"].sync_detailed(
        uuid.UUID(link.path.rsplit("/", 1)[1]), client=Client(base_url=base), variant=MediaVariant(query["variant"]),
        exp=int(query["exp"]), sig=query["sig"], viewer=uuid.UUID(query["viewer"]))
    assert image.status_code == 200
    assert image.content[:4] == b"RIFF" and image.content[8:12] == b"WEBP"
    assert query["viewer"] == str(bob.id)
