// Head view and model view of attention (in the manner of BERTviz), drawn from the JSON inside
// each .attention block; no library, nothing fetched.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                  "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];

  function el(tag, attrs, parent, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // Lines from every query token (left) to every key token (right), one colour per head.
  function drawLines(svg, weights, heads, tokens, geom, focus) {
    const {x0, x1, y0, dy, minWeight} = geom;
    for (const h of heads) {
      const m = weights[h];
      for (let q = 0; q < tokens.length; q++) {
        if (focus !== null && q !== focus) continue;
        for (let k = 0; k < tokens.length; k++) {
          const w = m[q][k];
          if (w < minWeight) continue;
          el("line", {x1: x0, y1: y0 + q * dy, x2: x1, y2: y0 + k * dy, stroke: COLORS[h % COLORS.length],
                      "stroke-opacity": Math.min(1, w * (focus === null ? 1 : 1.5)).toFixed(3),
                      "stroke-width": geom.width, class: "attn", "data-head": h}, svg);
        }
      }
    }
  }

  function headView(box, data, state) {
    box.textContent = "";
    const tokens = data.tokens, dy = 18, width = 360;
    const svg = el("svg", {width: width, height: tokens.length * dy + 24, class: "head-view-svg"}, box);
    const layer = data.weights[state.layer];
    const heads = [...state.heads].sort((a, b) => a - b);
    const lines = el("g", {}, svg);
    const redraw = (focus) => {
      lines.textContent = "";
      drawLines(lines, layer, heads, tokens, {x0: 110, x1: width - 110, y0: 16, dy: dy, minWeight: 0.01, width: 2}, focus);
    };
    tokens.forEach((t, i) => {
      for (const [x, anchor, side] of [[104, "end", "query"], [width - 104, "start", "key"]]) {
        const label = el("text", {x: x, y: 20 + i * dy, "text-anchor": anchor, class: "att-token " + side}, svg, t);
        if (side === "query") {
          label.addEventListener("mouseenter", () => redraw(i));
          label.addEventListener("mouseleave", () => redraw(null));
        }
      }
    });
    redraw(null);
  }

  function modelView(box, data, onPick) {
    box.textContent = "";
    const tokens = data.tokens, size = 84, dy = (size - 8) / Math.max(1, tokens.length - 1);
    const table = document.createElement("table");
    const header = table.insertRow();
    header.insertCell().textContent = "";
    data.weights[0].forEach((_, h) => { header.insertCell().textContent = "head " + h; });
    data.weights.forEach((heads, layerIndex) => {
      const row = table.insertRow();
      row.insertCell().textContent = "layer " + (layerIndex + 1);
      heads.forEach((_, h) => {
        const cell = row.insertCell();
        const svg = el("svg", {width: size, height: size, class: "thumb", "data-layer": layerIndex + 1, "data-head": h}, cell);
        drawLines(svg, heads, [h], tokens, {x0: 8, x1: size - 8, y0: 4, dy: dy, minWeight: 0.05, width: 1}, null);
        svg.addEventListener("click", () => onPick(layerIndex, h));
      });
    });
    box.appendChild(table);
  }

  function init(container) {
    const data = JSON.parse(container.querySelector(".attention-data").textContent);
    const nHeads = data.weights[0].length;
    const state = {layer: 0, heads: new Set(Array.from({length: nHeads}, (_, h) => h))};
    const controls = document.createElement("div");
    controls.className = "att-controls";
    const select = document.createElement("select");
    data.weights.forEach((_, l) => select.add(new Option("layer " + (l + 1), l)));
    controls.append("Layer ", select, " Heads ");
    const boxes = [];
    for (let h = 0; h < nHeads; h++) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox"; box.checked = true; box.dataset.head = h;
      label.style.color = COLORS[h % COLORS.length];
      label.append(box, String(h));
      controls.append(label);
      boxes.push(box);
    }
    const head = document.createElement("div"); head.className = "head-view";
    const model = document.createElement("div"); model.className = "model-view";
    const headTitle = document.createElement("h5"); headTitle.textContent = "Head view (hover a token on the left)";
    const modelTitle = document.createElement("h5"); modelTitle.textContent = "Model view (every layer x head; click one to open it above)";
    container.append(controls, headTitle, head, modelTitle, model);
    const refresh = () => headView(head, data, state);
    select.addEventListener("change", () => { state.layer = Number(select.value); refresh(); });
    boxes.forEach((box) => box.addEventListener("change", () => {
      const h = Number(box.dataset.head);
      if (box.checked) state.heads.add(h); else state.heads.delete(h);
      refresh();
    }));
    modelView(model, data, (layer, h) => {
      state.layer = layer; select.value = layer;
      state.heads = new Set([h]);
      boxes.forEach((box) => { box.checked = Number(box.dataset.head) === h; });
      refresh();
      head.scrollIntoView({block: "nearest"});
    });
    refresh();
  }

  document.querySelectorAll(".attention").forEach(init);
})();
