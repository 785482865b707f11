/* The agent panel: queue with countdowns, one conversation, take over / hand back, replies.
   Everything the buyer wrote is put in with textContent, never as HTML. */
(function () {
  "use strict";
  var API = "/webhooks/assist/api/";
  var BANDS = { handed_off: "已转人工", escalation: "投诉风险", deadline: "时效" };
  var state = { selected: null, view: null, queueAt: 0, items: [], suggestion: "", edited: false };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function time(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function percent(share) { return Math.round((share || 0) * 100) + "%"; }
  function countdown(seconds) {
    if (seconds === null || seconds === undefined) { return { text: "无时限", cls: "" }; }
    var late = seconds < 0, s = Math.abs(seconds);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
    var text = (h ? h + "小时" : "") + m + "分" + ("0" + sec).slice(-2) + "秒";
    return { text: late ? "已超时 " + text : "剩余 " + text, cls: late ? "overdue" : (seconds < 3600 ? "soon" : "") };
  }

  function call(method, path, body) {
    var init = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(API + path, init).then(function (r) {
      if (r.status === 401) { window.location.reload(); throw new Error("登录已过期"); }
      return r.json().then(function (data) {
        if (!r.ok) { throw new Error(data.message || ("HTTP " + r.status)); }
        return data;
      });
    });
  }

  // ------------------------------------------------------------------ queue
  function loadQueue() {
    return call("GET", "queue").then(function (data) {
      $("me").textContent = "客服：" + data.agent;
      state.items = data.items;
      state.queueAt = Date.now();
      renderQueue();
    }).catch(function () { /* shown on the next successful refresh */ });
  }

  function renderQueue() {
    var list = $("queue");
    clear(list);
    $("queue-count").textContent = state.items.length ? "（" + state.items.length + "）" : "";
    $("queue-empty").hidden = state.items.length > 0;
    state.items.forEach(function (item) {
      var li = el("li", item.band + (item.conversation_id === state.selected ? " selected" : ""));
      li.dataset.conversation = item.conversation_id;
      li.dataset.band = item.band;
      var top = el("div", "row");
      var band = el("span", "band", BANDS[item.band] + (item.reason_words ? " · " + item.reason_words : ""));
      if (item.priority === "high") { band.classList.add("high"); }
      top.appendChild(band);
      var clock = el("span", "countdown");
      clock.dataset.secondsLeft = item.seconds_left === null ? "" : item.seconds_left;
      top.appendChild(clock);
      li.appendChild(top);
      li.appendChild(el("div", "who", [item.buyer_id || item.conversation_id, item.platform || "", item.channel || "",
        item.taken_by ? "由 " + item.taken_by + " 处理" : ""].filter(Boolean).join(" · ")));
      li.appendChild(el("div", "last", item.last_message || ""));
      li.addEventListener("click", function () { open(item.conversation_id); });
      list.appendChild(li);
    });
    tick();
  }

  function tick() {
    var elapsed = (Date.now() - state.queueAt) / 1000;
    Array.prototype.forEach.call(document.querySelectorAll("#queue .countdown"), function (node) {
      var left = node.dataset.secondsLeft === "" ? null : Number(node.dataset.secondsLeft) - elapsed;
      var shown = countdown(left);
      node.textContent = shown.text;
      node.className = "countdown " + shown.cls;
    });
  }

  // ------------------------------------------------------------ conversation
  function open(conversationId) {
    if (state.selected !== conversationId) { state.edited = false; }
    state.selected = conversationId;
    renderQueue();
    return call("GET", "conversation?id=" + encodeURIComponent(conversationId)).then(render).catch(function (error) {
      $("send-status").textContent = error.message;
    });
  }

  function render(view) {
    state.view = view;
    $("placeholder").hidden = true;
    $("conversation").hidden = false;
    var buyer = view.buyer;
    $("conv-title").textContent = (buyer.buyer_id || view.conversation_id);
    $("conv-meta").textContent = [buyer.platform_name, buyer.shop_id, "渠道 " + (buyer.channel || "?"), view.conversation_id].filter(Boolean).join(" · ");
    var badge = $("bot-state");
    badge.textContent = view.paused ? "机器人已暂停" + (view.handoff && view.handoff.taken_by ? "（" + view.handoff.taken_by + " 处理中）" : "") : "机器人处理中";
    badge.className = "badge" + (view.paused ? " paused" : "");
    $("takeover").disabled = view.paused && !!(view.handoff && view.handoff.taken_by === view.agent);
    $("handback").disabled = !view.paused;
    renderTranscript(view.transcript);
    renderVerdict(view);
    renderNlu(view.understanding);
    renderOrder(view.order);
    if (!state.edited) {
      state.suggestion = view.suggestion;
      $("reply").value = view.suggestion;
    }
    $("push-note").textContent = view.can_push ? "" : "该买家的渠道（" + (buyer.channel || "?") + "）不能主动推送消息";
  }

  function renderTranscript(lines) {
    var list = $("transcript"), atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
    clear(list);
    lines.forEach(function (line) {
      var li = el("li", line.who);
      if (line.who !== "system") {
        var who = line.who === "buyer" ? "买家" : (line.who === "agent" ? "客服 " + line.agent : "机器人");
        var meta = who + " · " + time(line.at);
        if (line.intent) { meta += " · " + line.intent_words + " " + percent(line.confidence); }
        li.appendChild(el("span", "meta", meta));
      }
      li.appendChild(document.createTextNode(line.text + ((line.buttons || []).length ? "\n[" + line.buttons.join("] [") + "]" : "")));
      (line.images || []).forEach(function (url) {
        var img = el("img");
        img.src = url; img.alt = "买家上传的图片"; img.loading = "lazy";
        li.appendChild(img);
      });
      list.appendChild(li);
    });
    if (atBottom) { list.scrollTop = list.scrollHeight; }
  }

  function pair(dl, term, value) {
    dl.appendChild(el("dt", "", term));
    var dd = el("dd", "", value === null || value === undefined || value === "" ? "—" : value);
    dl.appendChild(dd);
    return dd;
  }

  function renderVerdict(view) {
    var box = $("verdict");
    clear(box);
    var v = view.verdict, h = view.handoff;
    var dl = el("dl");
    if (h) {
      pair(dl, "转人工原因", h.reason_words + (h.priority === "high" ? "（优先）" : ""));
      pair(dl, "承诺回复", h.answer_by ? time(h.answer_by) : "");
    }
    if (!v) {
      pair(dl, "判断", "机器人还没有做出售后判断");
      box.appendChild(dl);
      return;
    }
    pair(dl, "判断", v.verdict_words).className = "verdict-" + v.verdict;
    pair(dl, "原因", v.reason_words);
    pair(dl, "卖家时限", v.deadline ? time(v.deadline) : "");
    box.appendChild(dl);
    v.rules.forEach(function (rule) {
      var div = el("div", "rule");
      div.appendChild(el("code", "", rule.rule_id));
      div.appendChild(el("div", "", rule.note || ""));
      div.appendChild(el("div", "sources", "依据：" + (rule.sources.map(function (s) { return s.title; }).join("；") || "—")));
      box.appendChild(div);
    });
  }

  function renderNlu(u) {
    var box = $("nlu");
    clear(box);
    var dl = el("dl");
    pair(dl, "最新消息", u.text);
    pair(dl, "意图", u.intent ? u.intent_words + "（" + u.intent + "，" + percent(u.confidence) + "）" : "");
    pair(dl, "其他可能", u.alternatives.map(function (a) { return a.intent_words + " " + percent(a.confidence); }).join("，"));
    pair(dl, "实体", u.entities.map(function (e) { return e.entity + "=" + e.value; }).join("，"));
    pair(dl, "已知信息", Object.keys(u.slots).map(function (k) { return k + "=" + (Array.isArray(u.slots[k]) ? u.slots[k].length + "项" : u.slots[k]); }).join("，"));
    box.appendChild(dl);
  }

  function renderOrder(order) {
    var box = $("order");
    clear(box);
    if (!order) { box.appendChild(el("p", "muted", "没有找到订单")); return; }
    var dl = el("dl");
    pair(dl, "订单号", order.order_id);
    pair(dl, "商品", order.item);
    pair(dl, "店铺", order.shop + " · " + order.platform);
    pair(dl, "状态", order.status);
    pair(dl, "金额", order.amount === null ? "" : "¥" + order.amount);
    pair(dl, "签收", order.signed_at ? time(order.signed_at) : "");
    pair(dl, "商品状态", order.condition);
    pair(dl, "运费险", order.shipping_insurance ? "有" : "无");
    box.appendChild(dl);
  }

  // ---------------------------------------------------------------- actions
  function act(path, body, done) {
    if (!state.selected) { return; }
    body.conversation_id = state.selected;
    $("send-status").textContent = "处理中…";
    return call("POST", path, body).then(function (result) {
      $("send-status").textContent = done(result);
      return Promise.all([open(state.selected), loadQueue()]);
    }).catch(function (error) { $("send-status").textContent = "失败：" + error.message; });
  }

  $("takeover").addEventListener("click", function () {
    act("takeover", {}, function () { return "已接管，机器人暂停回复"; });
  });
  $("handback").addEventListener("click", function () {
    act("handback", {}, function () { return "已交还机器人"; });
  });
  $("send").addEventListener("click", function () {
    var text = $("reply").value.trim();
    if (!text) { $("send-status").textContent = "回复内容不能为空"; return; }
    state.edited = false;
    act("reply", { text: text, suggestion: state.suggestion, decision_id: state.view && state.view.decision_id },
      function (r) { return (r.delivered ? "已发送给买家" : (r.message || "已记录")) + (r.choice === "accepted" ? "（采用建议）" : "（修改后发送）"); });
  });
  $("reject").addEventListener("click", function () {
    act("reject", { suggestion: state.suggestion, decision_id: state.view && state.view.decision_id }, function () {
      state.edited = true;
      $("reply").value = "";
      return "已记录：不采用建议";
    });
  });
  $("reply").addEventListener("input", function () { state.edited = true; });

  loadQueue();
  setInterval(loadQueue, 5000);
  setInterval(tick, 1000);
  setInterval(function () { if (state.selected) { open(state.selected); } }, 4000);
}());
