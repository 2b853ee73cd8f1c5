// The details panel of the report. Every text from a log is set with
// textContent: nothing here parses HTML.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var byId = Object.create(null);
  data.incidents.forEach(function (inc) { byId[inc.id] = inc; });

  var panel = document.getElementById("details");
  var body = document.getElementById("details-body");
  var closeBtn = document.getElementById("details-close");
  var opener = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function heading(text) { body.appendChild(el("h3", null, text)); }

  function list(items, render) {
    var ul = el("ul");
    items.forEach(function (it) { ul.appendChild(render(it)); });
    body.appendChild(ul);
  }

  function fact(dl, name, value) {
    if (value === undefined || value === null || value === "") { return; }
    dl.appendChild(el("dt", null, name));
    var dd = el("dd");
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    dl.appendChild(dd);
  }

  // Only web links become links; anything else a catalog says stays text.
  function reference(text) {
    var li = el("li");
    if (/^https?:\/\/[^\s]+$/.test(text)) {
      var a = el("a", null, text);
      a.href = text;
      a.rel = "noopener noreferrer";
      li.appendChild(a);
    } else {
      li.textContent = text;
    }
    return li;
  }

  function render(inc) {
    body.replaceChildren();
    var h = el("h2", null, inc.title || inc.rule);
    h.id = "details-title";
    body.appendChild(h);

    var badges = el("div", "badges");
    badges.appendChild(el("span", "badge sev-" + inc.severity, inc.severity));
    badges.appendChild(el("span", "badge plain", inc.status));
    badges.appendChild(el("code", null, inc.rule));
    body.appendChild(badges);
    if (inc.summary) { body.appendChild(el("p", "summary", inc.summary)); }

    var dl = el("dl", "facts");
    fact(dl, "First seen", inc.first);
    fact(dl, "Last seen", inc.last);
    fact(dl, "Records", inc.count);
    fact(dl, "Host", inc.host);
    fact(dl, "Sources", inc.sources.join(", "));
    fact(dl, "Superseded by", inc.superseded_by);
    fact(dl, "Incident id", el("code", null, inc.id));
    body.appendChild(dl);

    if (inc.fields.length || inc.values.length) {
      heading("Fields");
      var fdl = el("dl", "facts fields");
      inc.fields.forEach(function (kv) { fact(fdl, kv[0], el("code", null, kv[1])); });
      inc.values.forEach(function (v) { fact(fdl, v.key + " (all)", el("code", null, v.values.join(" | "))); });
      body.appendChild(fdl);
    }

    heading("Evidence");
    var ev = el("div", "evidence");
    inc.evidence.forEach(function (e) {
      var d = el("div", "ev");
      var where = e.source + (e.line_no ? ":" + e.line_no : "");
      d.appendChild(el("div", "ev-meta", e.time + " · " + where + " · " + e.signature));
      d.appendChild(el("pre", "ev-line", e.line + (e.cut ? " …" : "")));
      ev.appendChild(d);
    });
    if (!inc.evidence.length) { ev.appendChild(el("p", "more", "No record kept.")); }
    if (inc.evidence_more) {
      ev.appendChild(el("p", "more", inc.evidence_more + " more record(s) not shown."));
    }
    body.appendChild(ev);

    if (inc.remediation) {
      heading("Remediation");
      body.appendChild(el("pre", "text remediation", inc.remediation));
    }
    if (inc.diagnostics.length) {
      heading("Diagnostics");
      list(inc.diagnostics, function (c) {
        var li = el("li");
        li.appendChild(el("code", null, c.command));
        if (c.why) { li.appendChild(el("div", "why", c.why)); }
        return li;
      });
    }
    if (inc.parameters.length) {
      heading("Settings");
      list(inc.parameters, function (p) {
        var li = el("li");
        li.appendChild(el("code", null, p.value ? p.name + " = " + p.value : p.name));
        if (p.why) { li.appendChild(el("div", "why", p.why)); }
        return li;
      });
    }
    if (inc.insights.length) {
      heading("Insights");
      list(inc.insights, function (s) { return el("li", null, s); });
    }
    if (inc.related.length) {
      heading("Related rules");
      list(inc.related, function (s) { var li = el("li"); li.appendChild(el("code", null, s)); return li; });
    }
    if (inc.references.length) {
      heading("References");
      list(inc.references, reference);
    }
  }

  function mark(id, cls, on) {
    var sel = "[data-incident-id=\"" + CSS.escape(id) + "\"]";
    document.querySelectorAll(sel).forEach(function (n) { n.classList.toggle(cls, on); });
  }

  function unselect() {
    document.querySelectorAll(".selected").forEach(function (n) { n.classList.remove("selected"); });
  }

  function open(id, from) {
    var inc = byId[id];
    if (!inc) { return; }
    render(inc);
    unselect();
    mark(id, "selected", true);
    opener = from || null;
    panel.hidden = false;
    panel.scrollTop = 0;
    panel.focus();
  }

  function close() {
    panel.hidden = true;
    unselect();
    if (opener && opener.focus) { opener.focus(); }
    opener = null;
  }

  function target(ev) {
    var t = ev.target;
    return t && t.closest ? t.closest("[data-incident-id]") : null;
  }

  document.addEventListener("click", function (ev) {
    var t = target(ev);
    if (t && !panel.contains(t)) { open(t.getAttribute("data-incident-id"), t); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !panel.hidden) { close(); return; }
    if (ev.key !== "Enter" && ev.key !== " ") { return; }
    var t = target(ev);
    if (t && !panel.contains(t)) {
      ev.preventDefault();
      open(t.getAttribute("data-incident-id"), t);
    }
  });
  closeBtn.addEventListener("click", close);

  // One incident is drawn in every lane it touches: light them together.
  ["mouseover", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      var t = target(ev);
      if (t) { mark(t.getAttribute("data-incident-id"), "hl", true); }
    });
  });
  ["mouseout", "focusout"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      var t = target(ev);
      if (t) { mark(t.getAttribute("data-incident-id"), "hl", false); }
    });
  });
})();
