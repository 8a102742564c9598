// Interactive API docs: Swagger UI (vendored in swagger-ui/, Apache-2.0) rendering the spec this
// server was generated from. "Try it out" calls this same server; "Authorize" takes an access
// token, and a session signed in on the web page at / of this origin is used at once.
"use strict";

const ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  onComplete() {
    let session = null;
    try { session = JSON.parse(localStorage.getItem("parley.session")); } catch { /* none */ }
    if (session?.accessToken && session.expiresAt > Date.now()) ui.preauthorizeApiKey("bearerAuth", session.accessToken);
  },
});
