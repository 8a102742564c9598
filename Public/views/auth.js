// The screens for the signed-out: sign in, create an account, forgotten password, and the page
// the password-reset mail links to (/reset-password?token=…).
import * as api from "../lib/api.js";
import * as session from "../lib/session.js";
import { h, field, showFormErrors } from "../lib/dom.js";

/** Why a session ended, for the sign-in screen. Keys: session.revoked reasons and our own. */
const ENDED = {
  logout: "You signed out.",
  revoked: "This device was signed out from another device.",
  password_changed: "Your password was changed on another device. Sign in with the new one.",
  password_reset: "Your password was reset. Sign in with the new one.",
  refresh_token_reuse: "For your safety, this session was ended. Please sign in again.",
  account_deleted: "Your account was deleted. Thank you for using Parley.",
  expired: "Your session has ended. Please sign in again.",
  elsewhere: "You were signed out in another tab.",
};
export const endedMessage = (reason) => ENDED[reason] ?? ENDED.expired;

/**
 * The signed-out screen for a hash route: #/signup, #/forgot, else sign in. `notice` is shown
 * above the form (why the session ended). `onSignedIn` runs once a session exists.
 */
export function authScreen(route, { notice, onSignedIn }) {
  const card = h("div", { class: "auth-card" });
  if (route === "signup") card.append(...signUp(onSignedIn));
  else if (route === "forgot") card.append(...forgot());
  else card.append(...signIn(onSignedIn, notice));
  return card;
}

function noticeElement(text) {
  return h("p", { class: "notice", role: "status" }, text ?? "");
}

function submitting(form, busy, label) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = busy;
  button.textContent = label;
  form.setAttribute("aria-busy", String(busy));
}

function signIn(onSignedIn, notice) {
  const form = h("form", { class: "stack", "aria-labelledby": "auth-title" },
    field({ label: "Username or email", name: "login", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("button", { type: "submit", class: "button primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    submitting(form, true, "Signing in…");
    try {
      const auth = await api.login({ login: form.elements.login.value.trim(), password: form.elements.password.value, deviceName: deviceName() });
      session.start(auth);
      onSignedIn();
    } catch (error) {
      submitting(form, false, "Sign in");
      showFormErrors(form, error.code === "invalid_credentials" ? { message: "The username, email or password is wrong." } : error);
    }
  });
  return [
    h("h1", { id: "auth-title" }, "Sign in to Parley"),
    noticeElement(notice),
    form,
    h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account")),
  ];
}

function signUp(onSignedIn) {
  const form = h("form", { class: "stack", "aria-labelledby": "auth-title" },
    field({ label: "Username", name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 32, pattern: "[A-Za-z0-9_.]{3,32}", autocapitalize: "none", spellcheck: "false", hint: "3 to 32 letters, digits, _ or ." }),
    field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true, hint: "Only for resetting your password; nobody else sees it." }),
    field({ label: "Display name (optional)", name: "displayName", autocomplete: "name", maxlength: 64 }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128, hint: "At least 8 characters." }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("button", { type: "submit", class: "button primary" }, "Create account"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    submitting(form, true, "Creating account…");
    const displayName = form.elements.displayName.value.trim();
    try {
      const auth = await api.register({ username: form.elements.username.value.trim(), email: form.elements.email.value.trim(), password: form.elements.password.value, displayName: displayName || undefined, deviceName: deviceName() });
      session.start(auth);
      onSignedIn();
    } catch (error) {
      submitting(form, false, "Create account");
      showFormErrors(form, error.code === "username_taken" ? { errors: [{ field: "username", detail: "That username is taken." }] }
        : error.code === "email_taken" ? { errors: [{ field: "email", detail: "An account already uses this email. Sign in, or reset its password." }] }
        : error);
    }
  });
  return [
    h("h1", { id: "auth-title" }, "Create your Parley account"),
    form,
    h("p", {}, "Have an account? ", h("a", { href: "#/signin" }, "Sign in")),
  ];
}

function forgot() {
  const status = noticeElement();
  const form = h("form", { class: "stack", "aria-labelledby": "auth-title" },
    h("p", {}, "Enter the email address of your account. We will send you a link to choose a new password."),
    field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("button", { type: "submit", class: "button primary" }, "Send the link"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    submitting(form, true, "Sending…");
    try {
      await api.requestPasswordReset(form.elements.email.value.trim());
      // The server answers the same whether or not the address has an account, and so do we.
      status.textContent = "If an account uses this address, a link to reset its password is on its way. It works once, within an hour.";
      form.reset();
    } catch (error) {
      showFormErrors(form, error);
    }
    submitting(form, false, "Send the link");
  });
  return [
    h("h1", { id: "auth-title" }, "Reset your password"),
    status,
    form,
    h("p", {}, h("a", { href: "#/signin" }, "Back to sign in")),
  ];
}

/** /reset-password?token=…: choose a new password with the mailed token. */
export function resetScreen() {
  const token = new URLSearchParams(location.search).get("token");
  // Take the token out of the address bar and the history at once: it is a password in all but name.
  history.replaceState(null, "", "/reset-password");
  const card = h("div", { class: "auth-card" }, h("h1", { id: "auth-title" }, "Choose a new password"));
  if (!token) {
    card.append(h("p", {}, "This link is incomplete. Open the link from the mail again, or ask for a new one."),
      h("p", {}, h("a", { href: "/#/forgot" }, "Ask for a new link")));
    return card;
  }
  const form = h("form", { class: "stack", "aria-labelledby": "auth-title" },
    field({ label: "New password", name: "newPassword", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128, hint: "At least 8 characters." }),
    field({ label: "New password, again", name: "again", type: "password", autocomplete: "new-password", required: true }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("button", { type: "submit", class: "button primary" }, "Set the password"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    if (form.elements.newPassword.value !== form.elements.again.value) {
      return showFormErrors(form, { errors: [{ field: "again", detail: "The two passwords differ." }] });
    }
    submitting(form, true, "Saving…");
    try {
      await api.confirmPasswordReset(token, form.elements.newPassword.value);
      // Every session of the account is revoked, this browser's too if it had one.
      if (session.current()) session.end("password_reset");
      card.replaceChildren(
        h("h1", { id: "auth-title", tabIndex: -1 }, "Your password is set"),
        h("p", { class: "notice", role: "status" }, "Every device was signed out. Sign in with your new password."),
        h("p", {}, h("a", { class: "button primary", href: "/#/signin" }, "Sign in")));
      card.querySelector("h1").focus();
    } catch (error) {
      submitting(form, false, "Set the password");
      if (error.code === "invalid_token") {
        showFormErrors(form, { message: "This link has expired or was already used." });
        form.querySelector(".form-error").after(h("p", {}, h("a", { href: "/#/forgot" }, "Ask for a new link")));
      } else {
        showFormErrors(form, error);
      }
    }
  });
  card.append(form);
  return card;
}

/** /verify-email: confirms the address with the mailed link's token, at once. */
export function verifyScreen() {
  const token = new URLSearchParams(location.search).get("token");
  history.replaceState(null, "", "/verify-email");  // the token leaves the address bar and the history
  const status = h("p", { role: "status" }, token ? "Confirming your address…" : "This link is incomplete. Open the link from the mail again.");
  const card = h("div", { class: "auth-card" }, h("h1", {}, "Email verification"), status, h("p", {}, h("a", { href: "/" }, "Open Parley")));
  if (token) {
    api.verifyEmail(token).then(
      (user) => { status.textContent = `Thank you: ${user.email} is confirmed.`; },
      (problem) => { status.textContent = problem.code === "invalid_token"
        ? "This link is used, expired or for an address you no longer have. Settings can mail a new one."
        : "The address could not be confirmed right now. Try the link again."; });
  }
  return card;
}

/** A name for the session list ("Chrome on Linux"), from the user agent. */
function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}
