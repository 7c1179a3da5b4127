// Re-runs a published spot-check draw in the browser, from the data on the page only, and
// says whether it matches what was committed to and handed out (campaigns/spotchecks.py is
// the same computation on the server). Messages come from the form's data attributes.
(function () {
  "use strict";
  var form = document.getElementById("verify-draw");
  var result = document.getElementById("verify-result");
  if (!form || !result) { return; }
  var text = form.dataset;

  function utf8(s) { return new TextEncoder().encode(s); }

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function sha256(bytes) { return crypto.subtle.digest("SHA-256", bytes); }

  function fromHex(s) {
    if (!/^([0-9a-fA-F]{2})+$/.test(s)) { throw new Error("seed"); }
    var out = new Uint8Array(s.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(s.substr(i * 2, 2), 16); }
    return out;
  }

  function byKey(pairs) {
    // Sort [key, item] pairs by key (hex digests, so plain string order) and keep the items.
    return pairs.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; })
      .map(function (pair) { return pair[1]; });
  }

  async function rank(mixed, items, prefix) {
    var pairs = await Promise.all(items.map(async function (item) {
      return [hex(await sha256(concat(mixed, utf8(prefix + item)))), item];
    }));
    return byKey(pairs);
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function sortedObject(obj) {
    var out = {};
    Object.keys(obj).sort().forEach(function (k) { out[k] = obj[k]; });
    return out;
  }

  async function verify() {
    var seed = fromHex(document.getElementById("seed").value.trim());
    var value = document.getElementById("public-value").value;
    var perJurisdiction = parseInt(document.getElementById("per-jurisdiction").value, 10);
    var candidatesText = document.getElementById("candidates").value;
    var candidates = JSON.parse(candidatesText);
    var handedOut = JSON.parse(document.getElementById("lists").value);
    var teams = JSON.parse(document.getElementById("teams").value);
    var problems = [];
    if (hex(await sha256(seed)) !== document.getElementById("seed-hash").textContent.trim()) {
      problems.push(text.seedHash);
    }
    var committed = document.getElementById("candidates-hash").textContent.trim();
    if (hex(await sha256(utf8(candidatesText))) !== committed) {
      problems.push(text.candidatesHash);
    }
    // Draws made before public values were mixed in were ranked by the seed alone.
    var mixed = value ? new Uint8Array(await sha256(concat(seed, utf8(value)))) : seed;
    var codes = Object.keys(candidates).sort();
    var lists = {};
    for (var i = 0; i < codes.length; i++) {
      var drawn = (await rank(mixed, candidates[codes[i]], "")).slice(0, perJurisdiction);
      if (drawn.length) { lists[codes[i]] = drawn; }
    }
    if (!same(lists, sortedObject(handedOut))) { problems.push(text.lists); }
    var ring = await rank(mixed, codes, "team:");
    var pairing = {};
    ring.forEach(function (code, n) { pairing[code] = ring[(n + 1) % ring.length]; });
    var wrongTeam = Object.keys(teams).some(function (code) {
      return pairing[code] !== teams[code];
    });
    if (wrongTeam) { problems.push(text.teams); }
    return problems;
  }

  async function run(event) {
    if (event) { event.preventDefault(); }
    if (!window.crypto || !crypto.subtle) {
      result.dataset.state = "unavailable";
      result.textContent = text.noCrypto;
      return;
    }
    var problems;
    try {
      problems = await verify();
    } catch (error) {
      problems = [text.malformed];
    }
    result.dataset.state = problems.length ? "mismatch" : "match";
    result.textContent = problems.length ? text.mismatch + problems.join("；") : text.match;
  }

  form.addEventListener("submit", run);
  run();
})();
