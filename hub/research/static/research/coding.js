/* Coding a source: select text with the mouse or the keyboard, then pick codes.
   Without this script the page still works: the form takes positions or a speaker turn.
   Positions are counted in code points, as the server counts Python string indices. */
(function () {
  "use strict";
  var box = document.getElementById("text");
  var form = document.getElementById("coding-form");
  if (!box) { return; }
  var pieces = Array.prototype.slice.call(box.querySelectorAll("[data-o]"));
  var starts = pieces.map(function (p) { return +p.getAttribute("data-o"); });
  var lens = pieces.map(function (p) { return Array.from(p.textContent).length; });
  var text = pieces.map(function (p) { return p.textContent; }).join("");
  var chars = Array.from(text);
  var current = null; // {start, end}
  var status = document.getElementById("selection-status");

  function pieceIndex(pos) { // the last piece starting at or before pos
    var lo = 0, hi = starts.length - 1, ans = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= pos) { ans = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return ans;
  }
  function units(str, cps) { // UTF-16 length of the first cps code points of str
    return Array.from(str).slice(0, cps).join("").length;
  }
  function offsetOf(node, offset) {
    if (node.nodeType === 3 && node.parentElement && node.parentElement.hasAttribute("data-o")) {
      return +node.parentElement.getAttribute("data-o") + Array.from(node.data.slice(0, offset)).length;
    }
    var probe = document.createRange();
    probe.setStart(node, offset);
    var lo = 0, hi = pieces.length - 1, ans = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (probe.comparePoint(pieces[mid], 0) <= 0) { ans = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    if (ans < 0) { return 0; }
    var p = pieces[ans];
    return probe.comparePoint(p, p.childNodes.length) <= 0 ? starts[ans] + lens[ans] : starts[ans];
  }
  function trim(start, end) {
    while (start < end && /\s/.test(chars[start])) { start++; }
    while (end > start && /\s/.test(chars[end - 1])) { end--; }
    return {start: start, end: end};
  }
  function boundary(pos, isEnd) {
    var i = pieceIndex(isEnd ? Math.max(pos - 1, 0) : pos);
    var node = pieces[i].firstChild || pieces[i];
    return [node, units(pieces[i].textContent, pos - starts[i])];
  }
  function show(sel, scroll) {
    current = sel;
    if (form) {
      form.elements.start.value = sel ? sel.start : "";
      form.elements.end.value = sel ? sel.end : "";
      if (form.elements.turn) { form.elements.turn.value = ""; }
    }
    if (!status) { return; }
    if (!sel) { status.textContent = "Nothing selected."; return; }
    var words = chars.slice(sel.start, sel.end).join("");
    var shown = words.length > 140 ? words.slice(0, 70) + " … " + words.slice(-60) : words;
    status.textContent = "Selected characters " + sel.start + "–" + sel.end + ": “" + shown + "”";
    if (scroll) { pieces[pieceIndex(sel.start)].scrollIntoView({block: "nearest"}); }
  }
  function select(start, end) {
    var sel = trim(start, end);
    if (sel.end <= sel.start) { return; }
    var a = boundary(sel.start, false), b = boundary(sel.end, true);
    var range = document.createRange();
    range.setStart(a[0], a[1]);
    range.setEnd(b[0], b[1]);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(range);
    show(sel, true);
  }

  // The mouse (or any selection the browser makes inside the text).
  var pending = null;
  document.addEventListener("selectionchange", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      var s = window.getSelection();
      if (!s.rangeCount || s.isCollapsed) { return; }
      var r = s.getRangeAt(0);
      if (!box.contains(r.commonAncestorContainer)) { return; }
      var sel = trim(offsetOf(r.startContainer, r.startOffset), offsetOf(r.endContainer, r.endOffset));
      if (sel.end > sel.start && (!current || sel.start !== current.start || sel.end !== current.end)) {
        show(sel, false);
      }
    }, 120);
  });

  // Sentences and turns for the keyboard.
  var sentences = [0];
  for (var i = 0; i < chars.length - 1; i++) {
    if (".?!\n".indexOf(chars[i]) >= 0) {
      var j = i + 1;
      while (j < chars.length && " \t\n\"'”’)".indexOf(chars[j]) >= 0) { j++; }
      if (j < chars.length && j !== sentences[sentences.length - 1]) { sentences.push(j); }
    }
  }
  function sentenceAt(pos) {
    var lo = 0, hi = sentences.length - 1, ans = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (sentences[mid] <= pos) { ans = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return ans;
  }
  function sentenceEnd(k) { return k + 1 < sentences.length ? sentences[k + 1] : chars.length; }
  var turns = Array.prototype.map.call(box.querySelectorAll(".turn[data-turn]"), function (t) {
    return {start: +t.getAttribute("data-start"), end: +t.getAttribute("data-end")};
  });

  box.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var key = e.key.toLowerCase(), k;
    if (key === "j" || key === "k") {
      if (!current) {
        k = 0;
        select(sentences[k], sentenceEnd(k));
      } else if (!e.shiftKey) {
        k = key === "j" ? Math.min(sentenceAt(current.end - 1) + 1, sentences.length - 1)
          : Math.max(sentenceAt(current.start) - 1, 0);
        select(sentences[k], sentenceEnd(k));
      } else if (key === "j") {
        k = Math.min(sentenceAt(current.end - 1) + 1, sentences.length - 1);
        select(current.start, sentenceEnd(k));
      } else {
        k = sentenceAt(current.end - 1);
        if (sentences[k] > current.start) { select(current.start, sentences[k]); }
      }
    } else if (key === "t" && turns.length) {
      var pos = current ? current.start : -1, pick = null;
      if (!e.shiftKey) {
        pick = turns.filter(function (t) { return t.start > pos; })[0] || turns[turns.length - 1];
      } else {
        var before = turns.filter(function (t) { return t.start < pos; });
        pick = before.length ? before[before.length - 1] : turns[0];
      }
      select(pick.start, pick.end);
    } else if (e.key === "Enter" && current && form) {
      var filter = document.getElementById("code-filter");
      (filter || form.querySelector("input[type=checkbox]")).focus();
    } else if (e.key === "Escape") {
      window.getSelection().removeAllRanges();
      show(null, false);
    } else {
      return;
    }
    e.preventDefault();
  });

  // Type-ahead over the codes.
  var slot = document.getElementById("code-filter-slot");
  var list = document.getElementById("code-choices");
  if (slot && list) {
    var label = document.createElement("label");
    label.setAttribute("for", "code-filter");
    label.textContent = "Find a code (Enter ticks the only match)";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "code-filter";
    input.autocomplete = "off";
    var found = document.createElement("p");
    found.className = "helptext";
    found.setAttribute("role", "status");
    slot.appendChild(label);
    slot.appendChild(input);
    slot.appendChild(found);
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-name]"));
    var visible = function () { return items.filter(function (li) { return !li.hidden; }); };
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      items.forEach(function (li) { li.hidden = q !== "" && li.getAttribute("data-name").indexOf(q) < 0; });
      var n = visible().length;
      found.textContent = q ? n + (n === 1 ? " code matches." : " codes match.") : "";
    });
    input.addEventListener("keydown", function (e) {
      var shown = visible();
      if (e.key === "Enter") {
        e.preventDefault();
        if (shown.length === 1) {
          var box1 = shown[0].querySelector("input");
          box1.checked = !box1.checked;
          found.textContent = shown[0].textContent.trim() + (box1.checked ? " ticked." : " unticked.");
          input.value = "";
          input.dispatchEvent(new Event("input"));
        }
      } else if (e.key === "ArrowDown" && shown.length) {
        e.preventDefault();
        shown[0].querySelector("input").focus();
      }
    });
  }

  // Jump to a coding from the list; come back to where one just coded.
  Array.prototype.forEach.call(document.querySelectorAll(".jump[data-o]"), function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      select(+a.getAttribute("data-o"), +a.getAttribute("data-e"));
      box.focus();
    });
  });
  var at = new URLSearchParams(window.location.search).get("at");
  if (at !== null && pieces.length) {
    pieces[pieceIndex(+at)].scrollIntoView({block: "center"});
  }
})();
