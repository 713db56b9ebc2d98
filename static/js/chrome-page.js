// Pages with no script of their own (the library, error pages): just the shared chrome.
// A module file rather than inline script, so the Content-Security-Policy can forbid inline code.
import { initChrome } from "./settings.js";

initChrome(null);
