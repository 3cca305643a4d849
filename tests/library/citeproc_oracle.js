// The test oracle: formats CSL-JSON items with citeproc-js, the CSL processor Zotero uses,
// from the same style and locale files as our formatter. Test-only (npm `citeproc`, installed
// by `make test`); the app never runs it.
//
// stdin:  {"styles": {"name": "path/to/style.csl", ...}, "locale": "path/to/locales-en-US.xml",
//          "items": [CSL-JSON, ...], "format": "text" | "html", "alone": false}
// stdout: {"name": [{"id": "...", "entry": "..."}, ...], ...} in the style's bibliography
//         order. With "alone", each item is formatted as a bibliography of its own (as a
//         source page shows it) and the entries keep the items' order.
"use strict";

const fs = require("fs");
const CSL = require("citeproc");

function engine(styleXml, localeXml, items) {
  const byId = new Map(items.map((item) => [String(item.id), item]));
  const sys = {
    retrieveLocale: () => localeXml,
    retrieveItem: (id) => byId.get(String(id)),
  };
  return new CSL.Engine(sys, styleXml, "en-US", true);
}

function bibliography(citeproc, ids, format) {
  citeproc.setOutputFormat(format);
  citeproc.updateItems(ids);
  const [params, entries] = citeproc.makeBibliography();
  return params.entry_ids.map((id, n) => ({ id: String(id[0]), entry: clean(entries[n], format) }));
}

function clean(entry, format) {
  if (format === "html") {
    return entry.trim().replace(/^<div class="csl-entry">/, "").replace(/<\/div>$/, "").trim();
  }
  return entry.trim();
}

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const localeXml = fs.readFileSync(request.locale, "utf8");
const format = request.format || "text";
const out = {};
for (const [name, path] of Object.entries(request.styles)) {
  const citeproc = engine(fs.readFileSync(path, "utf8"), localeXml, request.items);
  const ids = request.items.map((item) => String(item.id));
  if (request.alone) {
    out[name] = ids.map((id) => bibliography(citeproc, [id], format)[0]);
  } else {
    out[name] = bibliography(citeproc, ids, format);
  }
}
process.stdout.write(JSON.stringify(out));
