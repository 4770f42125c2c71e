// Start GOV.UK Frontend and MOJ Frontend on every page, and on content htmx swaps in.
//
// Loaded by templates/base.html as <script type="module">, so the page needs no
// inline script and works under a Content-Security-Policy without 'unsafe-inline'.
// Pages work without JavaScript; this only adds the components' behaviour
// (error summary focus, navigation toggle, sortable tables...).

import * as GOVUKFrontend from "../vendor/govuk-frontend/govuk-frontend.min.js";
import * as MOJFrontend from "../vendor/moj-frontend/moj-frontend.min.js";

// GOV.UK Frontend's page template adds these classes with an inline script; its
// components and styles check for them before they enhance anything.
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}

function start(scope) {
  GOVUKFrontend.initAll({ scope });
  MOJFrontend.initAll({ scope });
}

start(document.body);

// htmx fires htmx:load for the body once, then for each piece of swapped-in
// content: start the components inside the new piece only, so nothing is
// started twice.
document.addEventListener("htmx:load", (event) => {
  if (event.target !== document.body) {
    start(event.target);
  }
});
