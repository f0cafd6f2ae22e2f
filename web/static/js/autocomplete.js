// Choose, don't type: a text input marked data-autocomplete="schools|people|authorities" (web/forms.py) becomes
// an accessible autocomplete (GOV.UK's accessible-autocomplete, web/static/vendor/) offering matches from
// its data-autocomplete-url (/search/<kind>: only what the user may see). The input itself stays, hidden,
// and is what the form sends: the chosen match's value (a URN, a username, an authority's name), or what
// was typed if nothing was chosen. Without JavaScript the input is an ordinary text box: the typed URN or
// username works as before. Loaded as a module (once per page however many fields), so no inline script.

const VENDOR = new URL("../vendor/accessible-autocomplete/", import.meta.url);
const NO_MATCH = {
  schools: "No open school matches: type its 6-digit URN instead",
  people: "Nobody you may choose matches: type their username instead",
  authorities: "No authority matches: type its name",
};

function loadVendor() {
  if (window.accessibleAutocomplete) return Promise.resolve(window.accessibleAutocomplete);
  if (!loadVendor.promise) {
    loadVendor.promise = new Promise((resolve, reject) => {
      for (const href of [new URL("accessible-autocomplete.min.css", VENDOR), new URL("../autocomplete.css", import.meta.url)]) {
        const css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = href.href;
        document.head.appendChild(css);
      }
      const script = document.createElement("script");
      script.src = new URL("accessible-autocomplete.min.js", VENDOR).href;
      script.onload = () => resolve(window.accessibleAutocomplete);
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  return loadVendor.promise;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function label(result) {
  return typeof result === "string" ? result : result.label;
}

function source(url) {
  let latest = 0;
  return (query, populate) => {
    const asked = ++latest;
    fetch(`${url}?${new URLSearchParams({ q: query })}`, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then((response) => (response.ok ? response.json() : { results: [] }))
      .then((body) => { if (asked === latest) populate(body.results || []); })
      .catch(() => { if (asked === latest) populate([]); });
  };
}

// Keep the field's hint and error linked to the new input (the component sets aria-describedby itself).
function keepDescribedBy(field, ids) {
  if (!ids) return;
  const keep = () => {
    const now = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    const wanted = [...new Set([...ids.split(" ").filter(Boolean), ...now])].join(" ");
    if (field.getAttribute("aria-describedby") !== wanted) field.setAttribute("aria-describedby", wanted);
  };
  new MutationObserver(keep).observe(field, { attributes: true, attributeFilter: ["aria-describedby"] });
  keep();
}

function enhance(accessibleAutocomplete, input) {
  if (input.dataset.autocompleteReady) return;
  input.dataset.autocompleteReady = "yes";
  const kind = input.dataset.autocomplete;
  const id = input.id;
  const describedBy = input.getAttribute("aria-describedby");
  const container = document.createElement("div");
  container.className = "vsw-autocomplete";
  input.after(container);
  input.id = `${id}-value`;
  input.type = "hidden";
  input.removeAttribute("aria-describedby");
  accessibleAutocomplete({
    element: container,
    id,
    name: "",
    defaultValue: input.value,
    minLength: 2,
    confirmOnBlur: false,
    showNoOptionsFound: true,
    inputClasses: input.classList.contains("govuk-input--error") ? "govuk-input--error" : null,
    source: source(input.dataset.autocompleteUrl),
    templates: {
      inputValue: (result) => (result ? label(result) : ""),
      suggestion: (result) => escapeHtml(label(result)),
    },
    onConfirm: (result) => { if (result && typeof result !== "string") input.value = result.value; },
    tNoResults: () => NO_MATCH[kind] || "No matches",
  });
  const field = container.querySelector("input");
  field.setAttribute("autocomplete", "off");
  field.addEventListener("input", () => { input.value = field.value.trim(); });
  keepDescribedBy(field, describedBy);
}

const fields = document.querySelectorAll("input[data-autocomplete][data-autocomplete-url]");
if (fields.length) {
  loadVendor().then((accessibleAutocomplete) => {
    fields.forEach((input) => enhance(accessibleAutocomplete, input));
  });
}
