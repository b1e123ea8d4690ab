/* Reviewer widget: check a draft against other outlets and mark each claim by its verdict.
 *
 * Embed: <script src="https://factcheck.example.org/widget.js"></script> mounts into every
 * element with a data-factcheck-widget attribute. A CMS can also call
 *   FactcheckWidget.check(text)                 -> Promise of the check report
 *   window.postMessage({type: "factcheck:check", text}, location.origin)
 * and gets {type: "factcheck:result", report} (or "factcheck:error") posted back.
 *
 * Article text is only ever written with textContent / text nodes, never as HTML.
 */
(function () {
  "use strict";

  var VERDICTS = {
    conflicting: { label: "Conflicts with other outlets", symbol: "\u2717" },
    mixed: { label: "Mixed evidence", symbol: "\u00b1" },
    unverified: { label: "Unverified", symbol: "?" },
    supported: { label: "Supported by other outlets", symbol: "\u2713" },
  };
  // Where claims overlap, the mark shows the verdict a reviewer must look at first.
  var SEVERITY = ["conflicting", "mixed", "unverified", "supported"];

  var script = document.currentScript;
  var scriptBase = script && script.src ? new URL(".", script.src).href : new URL(".", location.href).href;
  var defaults = {
    apiBase: (script && script.getAttribute("data-api-base")) || scriptBase,
    apiKey: (script && script.getAttribute("data-api-key")) || "",
  };
  var widgets = [];
  var counter = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child != null) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function safeUrl(raw, base) {
    if (!raw) return null;
    try {
      var url = new URL(raw, base);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function ensureStylesheet(base) {
    var href = new URL("widget.css", base).href;
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) if (links[i].href === href) return;
    document.head.appendChild(el("link", { rel: "stylesheet", href: href }));
  }

  // Claim spans are offsets in code points (the service is Python); JS strings count UTF-16
  // units, so work on an array of code points.
  function locate(chars, text, claim) {
    var start = claim.span[0], end = claim.span[1];
    if (start >= 0 && end <= chars.length && start < end && chars.slice(start, end).join("") === claim.quote) {
      return [start, end];
    }
    var at = claim.quote ? text.indexOf(claim.quote) : -1;
    if (at < 0) return null;
    start = Array.from(text.slice(0, at)).length;
    return [start, start + Array.from(claim.quote).length];
  }

  function Widget(root, options) {
    this.options = Object.assign({}, defaults, options || {});
    this.id = "fc" + ++counter;
    this.root = root;
    this.build();
  }

  Widget.prototype.build = function () {
    var id = this.id;
    this.draft = el("textarea", { id: id + "-draft", className: "fc-draft", rows: "10", spellcheck: "true" });
    this.key = el("input", { id: id + "-key", className: "fc-key", type: "password", autocomplete: "off" });
    this.key.value = this.options.apiKey;
    this.button = el("button", { type: "submit", className: "fc-run", text: "Check claims" });
    this.status = el("p", { className: "fc-status", role: "status", "aria-live": "polite" });
    this.summary = el("p", { className: "fc-summary" });
    this.article = el("div", { className: "fc-article", "aria-label": "Article with marked claims" });
    this.details = el("aside", { id: id + "-details", className: "fc-details", "aria-live": "polite" }, [
      el("p", { className: "fc-hint", text: "Select a marked claim to see its citations." }),
    ]);
    var form = el("form", { className: "fc-form" }, [
      el("label", { for: id + "-draft", className: "fc-label", text: "Draft" }),
      this.draft,
      el("div", { className: "fc-row" }, [
        el("label", { for: id + "-key", className: "fc-label", text: "API key (if required)" }),
        this.key,
        this.button,
      ]),
      this.status,
    ]);
    var self = this;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.check(self.draft.value).catch(function () {});
    });
    var legend = el("ul", { className: "fc-legend", "aria-label": "Legend" }, Object.keys(VERDICTS).map(function (verdict) {
      return el("li", { id: id + "-legend-" + verdict, className: "fc-legend-item fc-" + verdict, text: VERDICTS[verdict].label });
    }));
    this.root.textContent = "";
    this.root.appendChild(el("section", { className: "fc-widget", "aria-label": "Fact-check" }, [
      form,
      legend,
      this.summary,
      el("div", { className: "fc-results" }, [this.article, this.details]),
    ]));
  };

  Widget.prototype.check = function (text, options) {
    var self = this;
    if (options && options.apiKey != null) this.key.value = options.apiKey;
    this.draft.value = text;
    if (!text || !text.trim()) {
      this.status.textContent = "Paste a draft first.";
      return Promise.reject(new Error("empty draft"));
    }
    var headers = { "content-type": "application/json", accept: "application/json" };
    if (this.key.value) headers["X-API-Key"] = this.key.value;
    this.button.disabled = true;
    this.status.textContent = "Checking\u2026";
    return fetch(new URL("v1/checks", this.options.apiBase).href, {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ text: text, store: false }),
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) {
            throw new Error("Check failed (" + response.status + "): " + (body.detail || body.title || response.statusText));
          }
          return body;
        });
      })
      .then(function (report) {
        self.render(text, report);
        self.status.textContent = "Checked: " + report.summary.claims + " claims.";
        return report;
      })
      .catch(function (error) {
        self.status.textContent = error.message || String(error);
        throw error;
      })
      .finally(function () {
        self.button.disabled = false;
      });
  };

  Widget.prototype.render = function (text, report) {
    var chars = Array.from(text);
    var located = [];
    report.claims.forEach(function (claim) {
      var range = locate(chars, text, claim);
      if (range) located.push({ claim: claim, start: range[0], end: range[1] });
    });
    var cuts = [0, chars.length];
    located.forEach(function (item) { cuts.push(item.start, item.end); });
    cuts = Array.from(new Set(cuts)).sort(function (a, b) { return a - b; });

    var s = report.summary;
    this.summary.textContent = s.claims + " claims: " + s.supported + " supported, " + s.conflicting +
      " conflicting, " + s.mixed + " mixed, " + s.unverified + " unverified.";
    this.article.textContent = "";
    this.details.textContent = "";
    this.details.appendChild(el("p", { className: "fc-hint", text: "Select a marked claim to see its citations." }));
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1];
      var piece = chars.slice(a, b).join("");
      var covering = located.filter(function (item) { return item.start <= a && item.end >= b; })
        .map(function (item) { return item.claim; });
      this.article.appendChild(covering.length ? this.mark(piece, covering) : document.createTextNode(piece));
    }
  };

  Widget.prototype.mark = function (piece, claims) {
    var verdicts = claims.map(function (claim) { return claim.verdict; });
    var shown = SEVERITY.filter(function (v) { return verdicts.indexOf(v) >= 0; })[0] || "unverified";
    var labels = SEVERITY.filter(function (v) { return verdicts.indexOf(v) >= 0; })
      .map(function (v) { return VERDICTS[v].label; });
    var node = el("mark", {
      className: "fc-claim fc-" + shown,
      "data-verdict": shown,
      tabindex: "0",
      role: "button",
      "aria-pressed": "false",
      "aria-controls": this.id + "-details",
      "aria-describedby": this.id + "-legend-" + shown,
      title: labels.join("; ") + " \u2014 select for citations",
      text: piece,
    });
    var self = this;
    function open(event) {
      if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      self.select(node, claims);
    }
    node.addEventListener("click", open);
    node.addEventListener("keydown", open);
    return node;
  };

  Widget.prototype.select = function (node, claims) {
    this.article.querySelectorAll(".fc-selected").forEach(function (other) {
      other.classList.remove("fc-selected");
      other.setAttribute("aria-pressed", "false");
    });
    node.classList.add("fc-selected");
    node.setAttribute("aria-pressed", "true");
    this.details.textContent = "";
    var base = this.options.apiBase;
    var self = this;
    claims.forEach(function (claim) { self.details.appendChild(claimDetails(claim, base)); });
  };

  function claimDetails(claim, base) {
    var verdict = VERDICTS[claim.verdict] || VERDICTS.unverified;
    var meta = "Confidence " + Math.round(claim.confidence * 100) + "% \u00b7 " +
      claim.independent_sources + " independent source" + (claim.independent_sources === 1 ? "" : "s");
    var citations = claim.citations.length
      ? el("ol", { className: "fc-citations" }, claim.citations.map(function (c) { return citation(c, base); }))
      : el("p", { className: "fc-none", text: "No other outlet reports this claim." });
    return el("article", { className: "fc-claim-details" }, [
      el("p", { className: "fc-verdict fc-" + claim.verdict, "data-verdict": claim.verdict, text: verdict.label }),
      el("p", { className: "fc-statement", text: claim.statement }),
      claim.claimant ? el("p", { className: "fc-meta", text: "Claimed by " + claim.claimant }) : null,
      el("p", { className: "fc-meta", text: meta }),
      claim.notes.length ? el("ul", { className: "fc-notes" }, claim.notes.map(function (note) {
        return el("li", { text: note });
      })) : null,
      citations,
    ]);
  }

  function citation(c, base) {
    var outlet = c.source || c.title || "Article " + c.article_id;
    var relation = c.relation === "supports" ? "Supports the claim" : "Contradicts the claim";
    var href = safeUrl(c.url, base) || new URL("v1/articles/" + c.article_id, base).href;
    return el("li", { className: "fc-citation fc-rel-" + c.relation }, [
      el("p", { className: "fc-citation-head" }, [
        el("strong", { className: "fc-outlet", text: outlet }),
        " \u2014 ",
        el("span", { className: "fc-relation", text: relation }),
      ]),
      el("blockquote", { className: "fc-citation-quote", text: c.quote }),
      c.claimant ? el("p", { className: "fc-meta", text: "\u2014 " + c.claimant }) : null,
      el("p", { className: "fc-citation-explanation", text: c.explanation }),
      el("a", { className: "fc-citation-link", href: href, target: "_blank", rel: "noopener noreferrer", text: c.title || c.url || "Open the cited article" }),
    ]);
  }

  function mount(element, options) {
    ensureStylesheet((options && options.apiBase) || defaults.apiBase);
    var widget = new Widget(element, options);
    widgets.push(widget);
    return widget;
  }

  function firstWidget() {
    if (!widgets.length) {
      var host = el("div", { "data-factcheck-widget": "" });
      document.body.appendChild(host);
      mount(host);
    }
    return widgets[0];
  }

  function mountAll() {
    document.querySelectorAll("[data-factcheck-widget]").forEach(function (element) {
      if (!element.hasAttribute("data-factcheck-mounted")) {
        element.setAttribute("data-factcheck-mounted", "");
        mount(element, { apiBase: element.getAttribute("data-api-base") || defaults.apiBase });
      }
    });
  }

  // Messages from this page itself, or from the page framing it (the service's /widget page
  // only allows framing by its configured origins).
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "factcheck:check" || typeof data.text !== "string") return;
    var fromSelf = event.source === window && event.origin === location.origin;
    var fromParent = window.parent !== window && event.source === window.parent;
    if (!fromSelf && !fromParent) return;
    var reply = function (message) {
      if (event.source) event.source.postMessage(message, event.origin);
    };
    firstWidget().check(data.text, { apiKey: data.apiKey }).then(
      function (report) { reply({ type: "factcheck:result", report: report }); },
      function (error) { reply({ type: "factcheck:error", detail: String(error.message || error) }); }
    );
  });

  window.FactcheckWidget = {
    mount: mount,
    check: function (text, options) { return firstWidget().check(text, options); },
    setApiKey: function (key) { widgets.forEach(function (w) { w.key.value = key || ""; }); },
    widgets: widgets,
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
