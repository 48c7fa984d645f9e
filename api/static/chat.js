/* The resident chat page (/chat). Plain ES2017 for phone browsers and WeChat's built-in one:
   no modules, no optional chaining, XMLHttpRequest. The conversation id, what was said and
   messages not yet delivered are kept in localStorage, so closing and reopening the page
   carries on; a message is resent with the same id until the service answers. */
(function () {
  "use strict";
  var KEY = "hotline-chat-v1";
  var START = [
    { title: "反映问题", payload: "我要反映问题" },
    { title: "查询进度", payload: "查询案件进度" },
    { title: "政策咨询", payload: "我想问政策" },
    { title: "转人工", payload: "转人工" }
  ];
  var log = document.getElementById("log");
  var choices = document.getElementById("choices");
  var sending = document.getElementById("sending");
  var form = document.getElementById("say");
  var input = document.getElementById("text");
  var places = JSON.parse(document.getElementById("places").textContent || "[]");
  var posterNow = JSON.parse(document.getElementById("poster").textContent || "null");

  function letters(n) {
    var abc = "abcdefghijklmnopqrstuvwxyz", out = "", i, bytes = null;
    if (window.crypto && window.crypto.getRandomValues) {
      bytes = new Uint8Array(n);
      window.crypto.getRandomValues(bytes);
    }
    for (i = 0; i < n; i++) {
      out += abc.charAt((bytes ? bytes[i] : Math.floor(Math.random() * 256)) % 26);
    }
    return out;
  }

  function fresh() {
    return { sender: letters(24), history: [], outbox: [], choices: null, poster: null };
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY) || "null");
      if (saved && saved.sender && saved.history) { return saved; }
    } catch (e) { /* private mode or damaged: start over */ }
    return fresh();
  }

  var state = load();
  if (posterNow) { state.poster = posterNow; }  // a new poster's village wins

  function save() {
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* full */ }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function copyNumber(number, button) {
    function done() { button.textContent = "已复制"; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(number).then(done, function () { oldCopy(number, done); });
    } else {
      oldCopy(number, done);
    }
  }

  function oldCopy(text, done) {
    var area = el("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { if (document.execCommand("copy")) { done(); } } catch (e) { /* nothing to do */ }
    document.body.removeChild(area);
  }

  function caseCard(number) {
    var card = el("li", "case");
    card.appendChild(el("p", null, "您的案件号"));
    card.appendChild(el("p", "num", number));
    var copy = el("button", "main", "复制案件号");
    copy.type = "button";
    copy.addEventListener("click", function () { copyNumber(number, copy); });
    card.appendChild(copy);
    card.appendChild(el("p", null, "请记下这个号码或截图保存，查进度、评价都要用。"));
    return card;
  }

  function render(entry) {
    var node;
    if (entry.caseNumber) {
      node = caseCard(entry.caseNumber);
    } else {
      node = el("li", "msg " + (entry.me ? "me" : "bot"), entry.text);
      if (entry.me && entry.waiting) { node.className += " waiting"; }
    }
    node.id = entry.id ? "m-" + entry.id : "";
    log.appendChild(node);
  }

  function renderAll() {
    log.innerHTML = "";
    state.history.forEach(render);
    state.outbox.forEach(function (m) { render({ me: true, text: m.text, waiting: true, id: m.id }); });
    showChoices(state.choices);
    window.scrollTo(0, document.body.scrollHeight);
  }

  function choiceButton(title, payload) {
    var b = el("button", null, title);
    b.type = "button";
    b.addEventListener("click", function () { say(payload, title); });
    return b;
  }

  function villagePicker(box, township) {
    var chosen = null;
    places.forEach(function (t) { if (t.township === township) { chosen = t; } });
    if (chosen) {
      box.appendChild(el("h2", null, "点您村的名字（" + chosen.township + "）"));
      chosen.villages.forEach(function (v) {
        box.appendChild(choiceButton(v, chosen.township + v));
      });
      if (places.length > 1) {
        var other = el("button", null, "不是这个镇");
        other.type = "button";
        other.addEventListener("click", function () { showChoices({ village: true }); });
        box.appendChild(other);
      }
    } else {
      box.appendChild(el("h2", null, "先点您所在的镇（乡）"));
      places.forEach(function (t) {
        var b = el("button", null, t.township);
        b.type = "button";
        b.addEventListener("click", function () { showChoices({ village: true, township: t.township }); });
        box.appendChild(b);
      });
    }
    box.appendChild(choiceButton("不想说", "不说"));
  }

  function showChoices(current) {
    choices.innerHTML = "";
    if (!current) { return; }
    if (current.village) {
      villagePicker(choices, current.township);
    } else if (current.buttons) {
      current.buttons.forEach(function (b) { choices.appendChild(choiceButton(b.title, b.payload)); });
    }
  }

  function receive(messages) {
    var next = null;
    messages.forEach(function (m) {
      var custom = m.custom || {};
      if (m.text) { state.history.push({ text: m.text }); }
      if (m.buttons) { next = { buttons: m.buttons }; }
      if (custom.ask === "village") { next = { village: true, township: custom.township || null }; }
      if (custom.case_number) {
        state.history.push({ caseNumber: String(custom.case_number).replace(/\D/g, "") });
      }
    });
    state.choices = next;
  }

  function post(body, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/chat/send");
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.timeout = timeoutMs;
      xhr.onload = function () {
        if (xhr.status === 200) {
          try { resolve(JSON.parse(xhr.responseText)); } catch (e) { reject({ retry: true }); }
        } else {
          reject({ retry: xhr.status >= 500 || xhr.status === 429 || xhr.status === 0, status: xhr.status });
        }
      };
      xhr.onerror = function () { reject({ retry: true }); };
      xhr.ontimeout = function () { reject({ retry: true }); };
      xhr.send(JSON.stringify(body));
    });
  }

  var busy = false;
  var wait = 1000;
  var timer = null;

  function pump() {
    if (busy || !state.outbox.length) { return; }
    busy = true;
    var m = state.outbox[0];
    var body = { sender: state.sender, id: m.id, message: m.payload };
    if (state.poster) {
      body.village = state.poster.village;
      body.township = state.poster.township;
    }
    sending.textContent = wait > 1000 ? "网络不好，正在重新发送…" : "正在发送…";
    post(body, 30000).then(function (answer) {
      state.outbox.shift();
      state.history.push({ me: true, text: m.text });
      receive(answer.messages || []);
      save();
      busy = false;
      wait = 1000;
      sending.textContent = "";
      renderAll();
      pump();
    }, function (err) {
      busy = false;
      if (err.retry) {
        sending.textContent = "网络不好，" + Math.round(wait / 1000) + "秒后自动重发，不用再点。";
        timer = window.setTimeout(pump, wait);
        wait = Math.min(wait * 2, 15000);
      } else {
        state.outbox.shift();
        state.history.push({ me: true, text: m.text });
        state.history.push({ text: "这句话没发出去，请换个说法再试。" });
        save();
        renderAll();
        pump();
      }
    });
  }

  function say(payload, shown) {
    var text = (shown || payload).trim();
    if (!text) { return; }
    state.outbox.push({ id: letters(16), payload: payload.trim(), text: text });
    state.choices = null;
    save();
    renderAll();
    pump();
  }

  function sendTyped() {
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    say(text);
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendTyped();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendTyped();
    }
  });
  document.getElementById("restart").addEventListener("click", function (event) {
    event.preventDefault();
    var poster = state.poster;
    state = fresh();
    state.poster = poster;
    greet();
  });
  window.addEventListener("online", function () {
    if (timer) { window.clearTimeout(timer); }
    wait = 1000;
    pump();
  });

  function greet() {
    var where = state.poster ? "（" + state.poster.township + state.poster.village + "）" : "";
    state.history.push({
      text: "您好，这里是小微权力监督热线" + where + "。村里干部用权的事都可以反映，可以匿名。请点下面的按钮，或者直接打字说。"
    });
    state.choices = { buttons: START };
    save();
    renderAll();
  }

  if (!state.history.length && !state.outbox.length) {
    greet();
  } else {
    save();
    renderAll();
    pump();
  }
}());
