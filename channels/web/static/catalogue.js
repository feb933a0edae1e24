/* The service catalogue beside the web chat (Appendix A, §7.2.1): domains → services → a
   service's operating manual (§4.1.1); institutions and stations; keyword search. Reads the
   public API /api/catalogue…; "咨询这项服务" sends the need to the chat with the service filled in
   (window.qclinicChat.send, index.html). Text is set with textContent only, never as markup. */
(function () {
  "use strict";
  const root = document.getElementById("catalogue");
  if (!root) return;
  document.body.classList.add("with-catalogue");

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function button(cls, text, onClick, label) {
    const b = el("button", cls, text);
    b.type = "button";
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }
  async function api(path) {
    const res = await fetch(path, {headers: {"Accept": "application/json"}});
    const data = await res.json().catch(function () { return null; });
    if (!res.ok) {
      const detail = data && data.detail;
      throw new Error((detail && detail.message) || "服务目录暂时无法打开，请稍后重试。");
    }
    return data;
  }

  // --- the frame: heading, search, tabs, body -------------------------------------------------
  const head = el("div", "cat-head");
  const title = el("h2");
  title.appendChild(el("span", null, "服务目录"));
  title.appendChild(button("cat-close", "返回对话", function () { setOpen(false); }));
  head.appendChild(title);
  const form = el("form", "cat-search");
  form.setAttribute("role", "search");
  const query = el("input");
  query.type = "search";
  query.maxLength = 200;
  query.placeholder = "搜索服务、机构、站点，如：压力表";
  query.setAttribute("aria-label", "搜索服务目录");
  form.appendChild(query);
  const go = el("button", null, "搜索");
  go.type = "submit";
  form.appendChild(go);
  head.appendChild(form);
  const tabs = el("div", "cat-tabs");
  tabs.setAttribute("role", "tablist");
  const TABS = [["services", "服务事项"], ["institutions", "服务机构"], ["stations", "线下站点"]];
  const tabButtons = {};
  TABS.forEach(function (t) {
    const b = button(null, t[1], function () { history = []; show(t[0]); });
    b.setAttribute("role", "tab");
    tabButtons[t[0]] = b;
    tabs.appendChild(b);
  });
  head.appendChild(tabs);
  const body = el("div", "cat-body");
  root.appendChild(head);
  root.appendChild(body);

  const toggle = button(null, "服务目录", function () { setOpen(!root.classList.contains("open")); });
  toggle.id = "catalogue-toggle";
  toggle.setAttribute("aria-controls", "catalogue");
  const header = document.querySelector("header");
  if (header) header.appendChild(toggle);
  function setOpen(open) {
    root.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  let catalogue = null;       // GET /api/catalogue, loaded once per page
  let history = [];           // views to go back to: [name, arg]
  let current = null;
  async function loadCatalogue() {
    if (!catalogue) catalogue = await api("/api/catalogue");
    return catalogue;
  }

  function selectTab(name) {
    Object.keys(tabButtons).forEach(function (k) {
      tabButtons[k].setAttribute("aria-selected", k === name ? "true" : "false");
    });
  }
  async function show(name, arg, remember) {
    if (remember && current) history.push(current);
    current = [name, arg];
    const tab = {service: "services", domain: "services", institution: "institutions",
                 station: "stations", search: null}[name] || name;
    if (tab) selectTab(tab);
    body.replaceChildren(el("p", "cat-empty", "正在加载…"));
    try {
      const view = await VIEWS[name](arg);
      body.replaceChildren();
      if (history.length) {
        body.appendChild(button("cat-back", "‹ 返回", function () {
          const prev = history.pop();
          show(prev[0], prev[1]);
        }));
      }
      body.appendChild(view);
      body.scrollTop = 0;
    } catch (e) {
      body.replaceChildren(el("p", "cat-empty", e.message));
    }
  }
  function open(name, arg) { return function () { show(name, arg, true); }; }

  function item(strong, small, onClick, count) {
    const b = button("cat-item", null, onClick);
    const s = el("strong", null, strong);
    if (count) s.appendChild(el("span", "cat-count", count));
    b.appendChild(s);
    if (small) b.appendChild(el("small", null, small));
    const li = el("li");
    li.appendChild(b);
    return li;
  }
  function list(items) {
    const ul = el("ul", "cat-list");
    items.forEach(function (i) { ul.appendChild(i); });
    return ul;
  }
  function section(parent, heading, lines, ordered) {
    if (!lines || !lines.length) return;
    parent.appendChild(el("h4", null, heading));
    const box = el(ordered ? "ol" : "ul");
    lines.forEach(function (t) { box.appendChild(el("li", null, t)); });
    parent.appendChild(box);
  }
  function stars(rating) { return "评分 " + Number(rating).toFixed(1); }

  function consult(serviceId, serviceTitle, institutionId, institutionTitle) {
    const chat = window.qclinicChat;
    if (!chat) return;
    const entities = {service_id: serviceId};
    if (institutionId) entities.institution_id = institutionId;
    const label = "咨询这项服务：" + serviceTitle + (institutionTitle ? "（" + institutionTitle + "）" : "");
    setOpen(false);
    chat.send("/request_service" + JSON.stringify(entities), label);
  }
  function consultButton(serviceId, serviceTitle, institutionId, institutionTitle, small) {
    return button(small ? "cat-small" : "cat-primary", "咨询这项服务", function (ev) {
      ev.stopPropagation();
      consult(serviceId, serviceTitle, institutionId, institutionTitle);
    }, "咨询这项服务：" + serviceTitle + (institutionTitle ? "，" + institutionTitle : ""));
  }

  // --- the views ------------------------------------------------------------------------------
  const VIEWS = {
    services: async function () {
      const data = await loadCatalogue();
      const wrap = el("div");
      wrap.appendChild(el("p", "cat-meta", "按领域浏览平台的服务事项，查看办事指南，或在上方搜索。"));
      wrap.appendChild(list(data.domains.filter(function (d) { return d.services.length; })
        .map(function (d) {
          const names = d.services.slice(0, 3).map(function (s) { return s.title; }).join("、");
          return item(d.label, names + (d.services.length > 3 ? "等" : ""), open("domain", d.code),
                      d.services.length + "项");
        })));
      return wrap;
    },
    domain: async function (code) {
      const data = await loadCatalogue();
      const domain = data.domains.find(function (d) { return d.code === code; });
      const wrap = el("div", "cat-page");
      if (!domain) { wrap.appendChild(el("p", "cat-empty", "没有找到这个领域。")); return wrap; }
      wrap.appendChild(el("h3", null, domain.label));
      wrap.appendChild(list(domain.services.map(function (s) {
        const where = s.institution_count ? s.institution_count + "家机构" : "工作人员对接";
        return item(s.title, s.summary, open("service", s.id), where);
      })));
      return wrap;
    },
    service: async function (id) {
      const s = await api("/api/catalogue/services/" + encodeURIComponent(id));
      const wrap = el("div", "cat-page");
      const h = el("h3", null, s.title);
      wrap.appendChild(h);
      const meta = el("p", "cat-meta");
      meta.appendChild(el("span", "cat-tag", s.domain_label));
      meta.appendChild(document.createTextNode("条款 " + s.clause));
      wrap.appendChild(meta);
      const actions = el("div", "cat-actions");
      actions.appendChild(consultButton(s.id, s.title));
      wrap.appendChild(actions);
      wrap.appendChild(el("p", null, s.description));
      section(wrap, "受理条件", s.acceptance_conditions);
      section(wrap, "办事材料", s.materials);
      section(wrap, "服务流程", s.process, true);
      wrap.appendChild(el("h4", null, "服务承诺"));
      wrap.appendChild(el("p", null, s.commitment));
      section(wrap, "依据", s.sources);
      wrap.appendChild(el("h4", null, "提供服务的机构（" + s.institutions.length + "家）"));
      if (!s.institutions.length) {
        wrap.appendChild(el("p", "cat-empty", "暂无入驻机构，点“咨询这项服务”由工作人员为您对接。"));
      }
      wrap.appendChild(list(s.institutions.map(function (i) {
        const what = i.products.slice(0, 4).join("、");
        const li = item(i.title, [i.region, i.service_modes.join("、"), stars(i.rating), what]
          .filter(Boolean).join(" · "), open("institution", i.id));
        li.className = "cat-offer";
        li.appendChild(consultButton(s.id, s.title, i.id, i.title, true));
        return li;
      })));
      if (s.stations.length) {
        wrap.appendChild(el("h4", null, "可办理的线下站点"));
        wrap.appendChild(list(s.stations.map(function (st) {
          return item(st.title, st.address + " · " + st.hours, open("station", st.id));
        })));
      }
      return wrap;
    },
    institutions: async function (domain) {
      const data = await loadCatalogue();
      const wrap = el("div");
      const select = el("select", "cat-filter");
      select.setAttribute("aria-label", "按领域筛选机构");
      select.appendChild(new Option("全部领域", ""));
      data.domains.forEach(function (d) { select.appendChild(new Option(d.label, d.code)); });
      select.value = domain || "";
      select.addEventListener("change", function () { show("institutions", select.value); });
      wrap.appendChild(select);
      const rows = await api("/api/catalogue/institutions" +
                             (domain ? "?domain=" + encodeURIComponent(domain) : ""));
      if (!rows.length) wrap.appendChild(el("p", "cat-empty", "这个领域暂无入驻机构。"));
      wrap.appendChild(list(rows.map(function (i) {
        return item(i.title, [i.type, i.region, stars(i.rating)].join(" · "), open("institution", i.id));
      })));
      return wrap;
    },
    institution: async function (id) {
      const i = await api("/api/catalogue/institutions/" + encodeURIComponent(id));
      const wrap = el("div", "cat-page");
      wrap.appendChild(el("h3", null, i.title));
      const meta = el("p", "cat-meta");
      meta.appendChild(el("span", "cat-tag", i.type));
      meta.appendChild(document.createTextNode(stars(i.rating)));
      wrap.appendChild(meta);
      wrap.appendChild(el("p", null, i.description));
      section(wrap, "基本信息", ["地区：" + i.region, "地址：" + i.address, "服务时间：" + i.hours,
                                 "电话：" + i.phone, "服务方式：" + i.service_modes.join("、")]);
      section(wrap, "资质", i.qualifications.map(function (q) {
        return q.kind + " " + q.number + (q.scope.length ? "（" + q.scope.join("、") + "）" : "");
      }));
      wrap.appendChild(el("h4", null, "可办理的服务"));
      wrap.appendChild(list(i.services.map(function (s) {
        const what = s.products.concat(s.items).slice(0, 5).join("、");
        const li = item(s.title, [s.domain_label, what].filter(Boolean).join(" · "), open("service", s.id));
        li.className = "cat-offer";
        li.appendChild(consultButton(s.id, s.title, i.id, i.title, true));
        return li;
      })));
      if (i.stations.length) {
        wrap.appendChild(el("h4", null, "同区域线下站点"));
        wrap.appendChild(list(i.stations.map(function (st) {
          return item(st.title, st.address, open("station", st.id));
        })));
      }
      return wrap;
    },
    stations: async function () {
      const rows = await api("/api/catalogue/stations");
      const wrap = el("div");
      wrap.appendChild(el("p", "cat-meta", "线下站点可登记需求、接收样品、发放报告。"));
      wrap.appendChild(list(rows.map(function (st) {
        return item(st.title, st.region + " · " + st.hours, open("station", st.id));
      })));
      return wrap;
    },
    station: async function (id) {
      const st = await api("/api/catalogue/stations/" + encodeURIComponent(id));
      const wrap = el("div", "cat-page");
      wrap.appendChild(el("h3", null, st.title));
      wrap.appendChild(el("p", "cat-meta", st.type));
      wrap.appendChild(el("p", null, st.description));
      section(wrap, "基本信息", ["地址：" + st.address, "办公时间：" + st.hours, "电话：" + st.phone]);
      wrap.appendChild(el("h4", null, "可办理的服务"));
      wrap.appendChild(list(st.services.map(function (s) {
        return item(s.title, s.domain_label, open("service", s.id));
      })));
      return wrap;
    },
    search: async function (text) {
      const data = await api("/api/catalogue/search?q=" + encodeURIComponent(text));
      const wrap = el("div");
      wrap.appendChild(el("h3", "cat-group", "“" + text + "”的搜索结果"));
      const groups = [["服务事项", data.services, "service"], ["服务机构", data.institutions, "institution"],
                      ["线下站点", data.stations, "station"]];
      let any = false;
      groups.forEach(function (g) {
        if (!g[1].length) return;
        any = true;
        wrap.appendChild(el("p", "cat-group", g[0] + "（" + g[1].length + "）"));
        wrap.appendChild(list(g[1].map(function (r) { return item(r.title, r.summary, open(g[2], r.id)); })));
      });
      if (!any) wrap.appendChild(el("p", "cat-empty", "没有找到相关的服务，换个关键词试试，或直接在对话中描述您的需求。"));
      return wrap;
    },
  };

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = query.value.trim();
    if (!text) { query.focus(); return; }
    show("search", text, true);
  });
  show("services");
})();
