// The landscape explorer (genviz-render, explorer.rs): evaluates a genviz MLP in the browser at
// theta + a x + b y and draws its decision boundary as the reader drags a marker over genviz's
// loss map. Plain JavaScript, no library, no network.
//
// Exactness: genviz-mlp computes every layer as out = bias, then out = fma(w, x, out) for each
// input in order, in float32, and the point theta + a x + b y as (c + a*x) + b*y in float32.
// This script repeats exactly those operations (fmaf below emulates a float32 fused
// multiply-add exactly), so for ReLU and leaky-ReLU networks its logits equal genviz's bit for
// bit; losses are then reduced in float64, as genviz does.
(function () {
  'use strict';
  var fail = window.genvizReportError || function (m) { throw new Error(m); };

  // ---- float32 arithmetic as genviz-mlp does it ---------------------------------------------

  // a * b + c rounded once to float32, as Rust's f32::mul_add and the AVX2 kernels compute it.
  // With float32 inputs the product is exact in float64; the float64 sum is at most one
  // rounding away from the exact value, and rounding that again to float32 differs from a
  // single rounding only when the float64 sum lies exactly halfway between two float32s. That
  // case is detected (t is then the other float32 neighbour) and settled by the exact error of
  // the sum (TwoSum).
  function fmaf(a, b, c) {
    var p = a * b;
    var s = p + c;
    var r = Math.fround(s);
    if (r === s) return r;
    var t = r + 2 * (s - r);
    if (Math.fround(t) !== t) return r;
    var bb = s - p;
    var e = (p - (s - bb)) + (c - bb);
    if (e === 0) return r; // an exact tie: fround rounded it to even, as fmaf does
    return (e > 0) === (t > r) ? t : r;
  }

  function decodeF32(b64) {
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  // The weights travel little-endian; Float32Array reads in the machine's order.
  var LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

  function Net(d) {
    this.head = d.head;
    this.activation = d.activation;
    this.slope = Math.fround(d.slope || 0);
    this.outputs = d.widths[d.widths.length - 1];
    this.layers = [];
    var off = 0;
    for (var l = 0; l + 1 < d.widths.length; l++) {
      var nIn = d.widths[l], nOut = d.widths[l + 1];
      this.layers.push({ nIn: nIn, nOut: nOut, w: off, b: off + nIn * nOut });
      off += nIn * nOut + nOut;
    }
    this.size = off;
    this.buffers = [];
  }

  Net.prototype.buffer = function (l, len) {
    if (!this.buffers[l] || this.buffers[l].length < len) this.buffers[l] = new Float32Array(len);
    return this.buffers[l];
  };

  // Logits of n examples given row-major inputs ([n][2]); the result is row-major too
  // ([n][outputs]) and lives in a scratch buffer that the next call overwrites. Each output is
  // genviz's chain bias, fma(w0, x0, .), fma(w1, x1, .), ... in input order, accumulated in a
  // local (a register) rather than in memory, which keeps it fast enough to follow a pointer.
  Net.prototype.forward = function (theta, input, n) {
    var cur = input, layers = this.layers, last = layers.length - 1;
    var act = this.activation === 'relu' ? 0 : this.activation === 'leaky_relu' ? 1 : 2;
    var slope = this.slope;
    for (var l = 0; l <= last; l++) {
      var L = layers[l], nIn = L.nIn, nOut = L.nOut, out = this.buffer(l, nOut * n);
      var wBase = L.w, bBase = L.b, hidden = l < last;
      for (var j = 0; j < n; j++) {
        var xo = j * nIn, oo = j * nOut;
        for (var o = 0; o < nOut; o++) {
          var acc = theta[bBase + o], wo = wBase + o * nIn;
          for (var k = 0; k < nIn; k++) acc = fmaf(theta[wo + k], cur[xo + k], acc);
          if (hidden) {
            if (act === 0) acc = acc > 0 ? acc : 0;
            else if (act === 1) acc = acc < 0 ? Math.fround(acc * slope) : acc;
            else acc = Math.fround(Math.tanh(acc));
          }
          out[oo + o] = acc;
        }
      }
      cur = out;
    }
    return cur;
  };

  // The class of example j of row-major logits, as genviz predicts it.
  Net.prototype.predict = function (logits, j) {
    var K = this.outputs, base = j * K;
    if (this.head === 'sigmoid') return logits[base] > 0 ? 1 : 0;
    var best = 0;
    for (var k = 1; k < K; k++) if (logits[base + k] > logits[base + best]) best = k;
    return best;
  };

  // Mean loss and correct count, in float64 with genviz-mlp's formulas (its sigmoid and
  // softmax cross-entropies).
  Net.prototype.score = function (logits, n, labels) {
    var loss = 0, correct = 0, j, K = this.outputs;
    for (j = 0; j < n; j++) {
      var y = labels[j], l, base = j * K;
      if (this.head === 'sigmoid') {
        var z = logits[base], target = y >= 1 ? 1 : 0;
        l = Math.max(z, 0) - target * z + Math.log1p(Math.exp(-Math.abs(z)));
      } else {
        var max = -Infinity, k, sum = 0;
        for (k = 0; k < K; k++) max = Math.max(max, logits[base + k]);
        for (k = 0; k < K; k++) sum += Math.exp(logits[base + k] - max);
        l = max + Math.log(sum) - logits[base + y];
      }
      loss += l;
      if (this.predict(logits, j) === y) correct++;
    }
    return { loss: loss / Math.max(n, 1), correct: correct, n: n };
  };

  // theta + a x + b y, as genviz-core's Affine::point: a and b rounded to float32 first, then
  // (c + a*x) + b*y with every operation rounded to float32.
  function pointTheta(c, x, y, a, b, out) {
    var af = Math.fround(a), bf = Math.fround(b);
    for (var i = 0; i < c.length; i++) {
      out[i] = Math.fround(Math.fround(c[i] + Math.fround(af * x[i])) + Math.fround(bf * y[i]));
    }
    return out;
  }

  // ---- small drawing helpers ----------------------------------------------------------------

  var MARGIN = { left: 46, right: 10, top: 8, bottom: 40 };
  var FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

  function setupCanvas(canvas, w, h) {
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }

  // About five round tick values in [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of ten).
  function ticks(lo, hi) {
    var raw = (hi - lo) / 5, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    var step = (f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10) * p;
    var out = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  function tickText(v) {
    var s = Number(v.toPrecision(4)).toString();
    return s.replace('-', '\u2212');
  }

  // Axes with ticks and labels around the plot rectangle r = {x, y, w, h}.
  function drawAxes(ctx, r, xr, yr, xLabel, yLabel) {
    ctx.save();
    ctx.strokeStyle = '#1d2330';
    ctx.lineWidth = 1;
    ctx.strokeRect(r.x - 0.5, r.y - 0.5, r.w + 1, r.h + 1);
    ctx.fillStyle = '#1d2330';
    ctx.font = FONT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ticks(xr[0], xr[1]).forEach(function (v) {
      var px = r.x + (v - xr[0]) / (xr[1] - xr[0]) * r.w;
      ctx.fillRect(Math.round(px) - 0.5, r.y + r.h, 1, 4);
      ctx.fillText(tickText(v), px, r.y + r.h + 6);
    });
    ctx.fillText(xLabel, r.x + r.w / 2, r.y + r.h + 22);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ticks(yr[0], yr[1]).forEach(function (v) {
      var py = r.y + r.h - (v - yr[0]) / (yr[1] - yr[0]) * r.h;
      ctx.fillRect(r.x - 4, Math.round(py) - 0.5, 4, 1);
      ctx.fillText(tickText(v), r.x - 6, py);
    });
    ctx.translate(12, r.y + r.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }

  function star(ctx, x, y, r) {
    ctx.beginPath();
    for (var i = 0; i < 10; i++) {
      var rr = i % 2 ? r * 0.45 : r, t = -Math.PI / 2 + i * Math.PI / 5;
      ctx[i ? 'lineTo' : 'moveTo'](x + rr * Math.cos(t), y + rr * Math.sin(t));
    }
    ctx.closePath();
    ctx.fillStyle = '#ffffff';
    ctx.fill();
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = 1.2;
    ctx.stroke();
  }

  function rgbCss(c) { return 'rgb(' + c[0] + ',' + c[1] + ',' + c[2] + ')'; }

  // Index of the grid coordinate nearest v in the increasing array axis.
  function nearest(axis, v) {
    var lo = 0, hi = axis.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (axis[mid] <= v) lo = mid; else hi = mid;
    }
    return Math.abs(axis[hi] - v) < Math.abs(v - axis[lo]) ? hi : lo;
  }

  function percent(c) { return (100 * c.correct / Math.max(c.n, 1)).toFixed(2) + '%'; }

  function num(v) { return v === null || v === undefined ? '\u2013' : Number(v.toPrecision(4)).toString(); }

  // ---- the colour scale shared by a group ---------------------------------------------------

  function Scale(d) {
    this.style = d.style;
    this.colors = d.colors;
    this.ticks = d.ticks;
    var s = d.style;
    this.lo = s.log ? Math.log10(s.vmin) : s.vmin;
    this.hi = s.log ? Math.log10(s.vmax) : s.vmax;
  }
  // Position of v on the scale (0 at vmin, 1 at vmax, clipped); NaN for gaps.
  Scale.prototype.t = function (v) {
    if (v === null || v !== v) return NaN;
    var u = this.style.log ? (v > 0 ? Math.log10(v) : -Infinity) : v;
    return Math.min(1, Math.max(0, (u - this.lo) / (this.hi - this.lo)));
  };
  // Contour band of v: level k covers [level k, level k+1) (vmin * 10^(k vlevel) on a log
  // scale), as genviz's static contour figures; -1 below vmin.
  Scale.prototype.band = function (v) {
    var u = this.style.log ? Math.log10(v) : v;
    var k = Math.floor((u - this.lo) / this.style.vlevel);
    var top = Math.floor((this.hi - this.lo) / this.style.vlevel - 1e-9);
    return k < 0 ? -1 : Math.min(k, top);
  };
  Scale.prototype.color = function (t) {
    var n = this.colors.length - 1, pos = t * n, i = Math.min(Math.floor(pos), n - 1), f = pos - i;
    var a = this.colors[i], b = this.colors[i + 1];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  };

  // Bilinear interpolation of a row-major [ny][nx] grid at (a, b); null outside a gap-free cell.
  function interpolate(grid, values, a, b) {
    var xs = grid.xs, ys = grid.ys, nx = xs.length;
    var ix = Math.min(Math.max(lowerIndex(xs, a), 0), nx - 2);
    var iy = Math.min(Math.max(lowerIndex(ys, b), 0), ys.length - 2);
    var fx = (a - xs[ix]) / (xs[ix + 1] - xs[ix]), fy = (b - ys[iy]) / (ys[iy + 1] - ys[iy]);
    var v00 = values[iy * nx + ix], v10 = values[iy * nx + ix + 1];
    var v01 = values[(iy + 1) * nx + ix], v11 = values[(iy + 1) * nx + ix + 1];
    if (v00 === null || v10 === null || v01 === null || v11 === null) return null;
    return (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
  }
  function lowerIndex(axis, v) {
    var lo = 0, hi = axis.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (axis[mid] <= v) lo = mid; else hi = mid;
    }
    return lo;
  }

  // ---- one explorer ------------------------------------------------------------------------

  function Explorer(group, index, root, d) {
    this.group = group;
    this.index = index;
    this.root = root;
    this.d = d;
    this.net = new Net(d);
    this.theta0 = decodeF32(d.theta);
    if (this.theta0.length !== this.net.size) {
      throw new Error('explorer "' + d.title + '": ' + this.theta0.length + ' weights, the widths need ' + this.net.size);
    }
    this.planes = d.planes.map(function (p) {
      return { d: p, x: decodeF32(p.x), y: decodeF32(p.y), image: null };
    });
    this.theta = new Float32Array(this.net.size);
    this.train = { input: decodeF32(d.train.inputs), labels: d.train.labels };
    this.test = { input: decodeF32(d.test.inputs), labels: d.test.labels };
    this.plane = 0;
    this.coarse = group.d.min_coarse;
    this.a = 0;
    this.b = 0;
    this.job = null;
    this.waiters = [];

    var P = group.d.panel;
    this.rect = { x: MARGIN.left, y: MARGIN.top, w: P, h: P };
    var e = d.extent;
    // The boundary keeps one unit of x as long as one unit of y: the taller side gets P.
    var aspect = (e[3] - e[2]) / (e[1] - e[0]);
    this.brect = aspect <= 1
      ? { x: MARGIN.left, y: MARGIN.top + Math.round(P * (1 - aspect) / 2), w: P, h: Math.round(P * aspect) }
      : { x: MARGIN.left + Math.round(P * (1 - 1 / aspect) / 2), y: MARGIN.top, w: Math.round(P / aspect), h: P };
    var W = MARGIN.left + P + MARGIN.right, H = MARGIN.top + P + MARGIN.bottom;
    this.map = root.querySelector('canvas.loss-map');
    this.mapCtx = setupCanvas(this.map, W, H);
    this.boundary = root.querySelector('canvas.boundary');
    this.bctx = setupCanvas(this.boundary, W, H);
    this.cells = document.createElement('canvas');
    this.sliderA = root.querySelector('.slider-a');
    this.sliderB = root.querySelector('.slider-b');
    this.wire();
    this.setPlane(0);
  }

  Explorer.prototype.grid = function () { return this.planes[this.plane].d.grid; };

  Explorer.prototype.wire = function () {
    var self = this;
    var dragging = false;
    function fromEvent(ev) {
      var box = self.map.getBoundingClientRect(), r = self.rect, g = self.grid();
      var px = (ev.clientX - box.left) * (self.map.width / box.width) / (window.devicePixelRatio || 1);
      var py = (ev.clientY - box.top) * (self.map.height / box.height) / (window.devicePixelRatio || 1);
      var a = g.xs[0] + (px - r.x) / r.w * (g.xs[g.xs.length - 1] - g.xs[0]);
      var b = g.ys[g.ys.length - 1] - (py - r.y) / r.h * (g.ys[g.ys.length - 1] - g.ys[0]);
      self.group.moveTo(self, a, b);
    }
    this.map.addEventListener('pointerdown', function (ev) {
      dragging = true;
      if (self.map.setPointerCapture && ev.pointerId !== undefined) {
        try { self.map.setPointerCapture(ev.pointerId); } catch (err) { /* synthetic pointers */ }
      }
      fromEvent(ev);
      ev.preventDefault();
    });
    this.map.addEventListener('pointermove', function (ev) { if (dragging) fromEvent(ev); });
    var stop = function () { dragging = false; };
    this.map.addEventListener('pointerup', stop);
    this.map.addEventListener('pointercancel', stop);
    var slide = function () {
      self.group.moveTo(self, parseFloat(self.sliderA.value), parseFloat(self.sliderB.value));
    };
    this.sliderA.addEventListener('input', slide);
    this.sliderB.addEventListener('input', slide);
  };

  Explorer.prototype.setPlane = function (p) {
    this.plane = Math.min(p, this.planes.length - 1);
    var pl = this.planes[this.plane].d, g = pl.grid;
    this.root.querySelector('.label-a').textContent = 'a, ' + pl.x_label;
    this.root.querySelector('.label-b').textContent = 'b, ' + pl.y_label;
    var sliders = [[this.sliderA, g.xs], [this.sliderB, g.ys]];
    sliders.forEach(function (s) {
      var lo = s[1][0], hi = s[1][s[1].length - 1];
      s[0].min = lo;
      s[0].max = hi;
      // Keyboard steps of 1/400 of the range; values in between come from dragging the map.
      s[0].step = (hi - lo) / 400;
    });
    this.renderMapImage();
    this.setCoords(this.a, this.b);
  };

  // Clamps (a, b) to the plane's grid, snapping to its nearest point when asked.
  Explorer.prototype.setCoords = function (a, b) {
    var g = this.grid();
    a = Math.min(Math.max(a, g.xs[0]), g.xs[g.xs.length - 1]);
    b = Math.min(Math.max(b, g.ys[0]), g.ys[g.ys.length - 1]);
    if (this.group.snap) {
      a = g.xs[nearest(g.xs, a)];
      b = g.ys[nearest(g.ys, b)];
    }
    this.a = a;
    this.b = b;
    this.schedule();
  };

  // Coalesces moves into one update per animation frame.
  Explorer.prototype.schedule = function () {
    var self = this;
    this.root.dataset.state = 'moving';
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(function () {
      self.frameRequested = false;
      self.update();
    });
  };

  // Evaluates the data and a coarse boundary now, then refines the boundary in slices.
  Explorer.prototype.update = function () {
    var t0 = performance.now();
    var pl = this.planes[this.plane];
    pointTheta(this.theta0, pl.x, pl.y, this.a, this.b, this.theta);
    var net = this.net;
    var tr = net.forward(this.theta, this.train.input, this.train.labels.length);
    this.trainScore = net.score(tr, this.train.labels.length, this.train.labels);
    this.trainPred = new Uint8Array(this.train.labels.length);
    for (var j = 0; j < this.trainPred.length; j++) this.trainPred[j] = net.predict(tr, j);
    var te = net.forward(this.theta, this.test.input, this.test.labels.length);
    this.testScore = net.score(te, this.test.labels.length, this.test.labels);
    var t1 = performance.now();
    var coarse = this.coarse;
    this.drawBoundary(this.classify(coarse, 0, coarse, null), coarse);
    this.drawMap();
    this.showNumbers();
    var t2 = performance.now();
    // The next move's coarse boundary gets what is left of the frame budget after the data,
    // at the cost per forward pass just measured (machines differ tenfold).
    var passes = this.train.labels.length + this.test.labels.length + coarse * coarse;
    var perPass = (t2 - t0) / passes;
    var left = Math.max(this.group.d.budget_ms - (t1 - t0), 0);
    this.coarse = Math.max(this.group.d.min_coarse,
      Math.min(this.group.d.coarse, Math.floor(Math.sqrt(left / Math.max(perPass, 1e-6)))));
    this.root.dataset.scoreMs = (t1 - t0).toFixed(1);
    this.root.dataset.frameMs = (t2 - t0).toFixed(1);
    this.root.dataset.state = 'coarse';
    this.refine();
  };

  // Predicted classes of rows [row0, row1) of an n x n cell grid over the extent, written into
  // `classes` (allocated when null). Cells are classified at their centres.
  Explorer.prototype.classify = function (n, row0, row1, classes) {
    classes = classes || new Uint8Array(n * n);
    var e = this.d.extent, rows = row1 - row0, m = rows * n;
    var input = new Float32Array(2 * m);
    for (var r = 0; r < rows; r++) {
      var y = e[2] + (row0 + r + 0.5) * (e[3] - e[2]) / n;
      for (var i = 0; i < n; i++) {
        input[2 * (r * n + i)] = e[0] + (i + 0.5) * (e[1] - e[0]) / n;
        input[2 * (r * n + i) + 1] = y;
      }
    }
    var logits = this.net.forward(this.theta, input, m);
    for (var j = 0; j < m; j++) classes[row0 * n + j] = this.net.predict(logits, j);
    return classes;
  };

  // The fine boundary, a few rows per slice so the page keeps answering the pointer; dropped
  // as soon as the marker moves again.
  Explorer.prototype.refine = function () {
    var self = this, n = this.group.d.fine, classes = new Uint8Array(n * n), row = 0;
    var t0 = performance.now(), job = {};
    this.job = job;
    function slice() {
      if (self.job !== job || self.frameRequested) return;
      var start = performance.now();
      while (row < n && performance.now() - start < 12) {
        var next = Math.min(n, row + 4);
        self.classify(n, row, next, classes);
        row = next;
      }
      if (row < n) { setTimeout(slice, 0); return; }
      self.drawBoundary(classes, n);
      self.root.dataset.fineMs = (performance.now() - t0).toFixed(1);
      self.root.dataset.state = 'done';
      var waiters = self.waiters;
      self.waiters = [];
      waiters.forEach(function (w) { w(); });
    }
    setTimeout(slice, 0);
  };

  Explorer.prototype.drawBoundary = function (classes, n) {
    var ctx = this.bctx, d = this.d, r = this.brect, e = d.extent;
    this.cells.width = n;
    this.cells.height = n;
    var cctx = this.cells.getContext('2d'), img = cctx.createImageData(n, n), px = img.data;
    for (var iy = 0; iy < n; iy++) {
      for (var ix = 0; ix < n; ix++) {
        var col = d.class_pale[classes[iy * n + ix]];
        var k = 4 * ((n - 1 - iy) * n + ix); // image rows run downwards
        px[k] = col[0]; px[k + 1] = col[1]; px[k + 2] = col[2]; px[k + 3] = 255;
      }
    }
    cctx.putImageData(img, 0, 0);
    ctx.clearRect(0, 0, this.boundary.width, this.boundary.height);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.boundary.width, this.boundary.height);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.cells, r.x, r.y, r.w, r.h);
    var sx = function (x) { return r.x + (x - e[0]) / (e[1] - e[0]) * r.w; };
    var sy = function (y) { return r.y + r.h - (y - e[2]) / (e[3] - e[2]) * r.h; };
    // The boundary: the cell edges between cells of different classes, as one dark path.
    var cw = r.w / n, ch = r.h / n;
    ctx.beginPath();
    for (iy = 0; iy < n; iy++) {
      for (ix = 0; ix < n; ix++) {
        var c = classes[iy * n + ix], X0 = r.x + ix * cw, Y0 = r.y + r.h - iy * ch;
        if (ix + 1 < n && classes[iy * n + ix + 1] !== c) {
          ctx.moveTo(X0 + cw, Y0); ctx.lineTo(X0 + cw, Y0 - ch);
        }
        if (iy + 1 < n && classes[(iy + 1) * n + ix] !== c) {
          ctx.moveTo(X0, Y0 - ch); ctx.lineTo(X0 + cw, Y0 - ch);
        }
      }
    }
    // Thin and translucent: a one-cell sliver of the other class must stay readable as a
    // sliver, not turn into a dark smear.
    ctx.strokeStyle = 'rgba(40, 44, 54, 0.65)';
    ctx.lineWidth = 1;
    ctx.lineCap = 'square';
    ctx.stroke();
    var inside = function (x, y) { return x >= e[0] && x <= e[1] && y >= e[2] && y <= e[3]; };
    var j, x, y;
    if (this.group.showTest) {
      ctx.lineWidth = 1.2;
      for (j = 0; j < this.test.labels.length; j++) {
        x = this.test.input[2 * j]; y = this.test.input[2 * j + 1];
        if (!inside(x, y)) continue;
        ctx.strokeStyle = rgbCss(d.class_strong[this.test.labels[j]]);
        ctx.beginPath();
        ctx.arc(sx(x), sy(y), 2.6, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    for (j = 0; j < this.train.labels.length; j++) {
      x = this.train.input[2 * j]; y = this.train.input[2 * j + 1];
      if (!inside(x, y)) continue;
      var label = this.train.labels[j], X = sx(x), Y = sy(y);
      if (this.trainPred[j] === label) {
        ctx.beginPath();
        ctx.arc(X, Y, 3, 0, 2 * Math.PI);
        ctx.fillStyle = rgbCss(d.class_strong[label]);
        ctx.fill();
        ctx.strokeStyle = '#ffffff';
        ctx.lineWidth = 0.8;
        ctx.stroke();
      } else {
        // A misclassified point: a cross in its class colour on a black edge.
        ctx.lineCap = 'round';
        [['#000000', 3.4], [rgbCss(d.class_strong[label]), 1.6]].forEach(function (s) {
          ctx.strokeStyle = s[0];
          ctx.lineWidth = s[1];
          ctx.beginPath();
          ctx.moveTo(X - 3.5, Y - 3.5); ctx.lineTo(X + 3.5, Y + 3.5);
          ctx.moveTo(X - 3.5, Y + 3.5); ctx.lineTo(X + 3.5, Y - 3.5);
          ctx.stroke();
        });
      }
    }
    drawAxes(ctx, r, [e[0], e[1]], [e[2], e[3]], 'input 1', 'input 2');
    this.root.dataset.cells = String(n);
  };

  // genviz's train loss over the plane as filled contours: viridis on the group's scale, with
  // darker iso-lines where the contour band changes, drawn once per plane.
  Explorer.prototype.renderMapImage = function () {
    var pl = this.planes[this.plane];
    var dpr = window.devicePixelRatio || 1, r = this.rect, g = pl.d.grid, scale = this.group.scale;
    var w = Math.round(r.w * dpr), h = Math.round(r.h * dpr);
    var img = new ImageData(w, h), px = img.data;
    var values = new Float64Array(w * h), bands = new Int32Array(w * h);
    var x0 = g.xs[0], x1 = g.xs[g.xs.length - 1], y0 = g.ys[0], y1 = g.ys[g.ys.length - 1];
    var i, j, k;
    for (j = 0; j < h; j++) {
      var b = y1 - (j + 0.5) / h * (y1 - y0);
      for (i = 0; i < w; i++) {
        var v = interpolate(g, g.train_loss, x0 + (i + 0.5) / w * (x1 - x0), b);
        values[j * w + i] = v === null ? NaN : v;
        bands[j * w + i] = v === null ? -2 : scale.band(v);
      }
    }
    for (j = 0; j < h; j++) {
      for (i = 0; i < w; i++) {
        k = j * w + i;
        var c = values[k] !== values[k] ? [235, 235, 235] : scale.color(scale.t(values[k]));
        var line = (i + 1 < w && bands[k + 1] !== bands[k]) || (j + 1 < h && bands[k + w] !== bands[k]);
        var f = line ? 0.55 : 1;
        px[4 * k] = c[0] * f; px[4 * k + 1] = c[1] * f; px[4 * k + 2] = c[2] * f; px[4 * k + 3] = 255;
      }
    }
    var off = document.createElement('canvas');
    off.width = w;
    off.height = h;
    off.getContext('2d').putImageData(img, 0, 0);
    pl.image = off;
  };

  Explorer.prototype.drawMap = function () {
    var ctx = this.mapCtx, r = this.rect, pl = this.planes[this.plane], g = pl.d.grid;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.map.width, this.map.height);
    ctx.drawImage(pl.image, r.x, r.y, r.w, r.h);
    var x0 = g.xs[0], x1 = g.xs[g.xs.length - 1], y0 = g.ys[0], y1 = g.ys[g.ys.length - 1];
    var sx = function (a) { return r.x + (a - x0) / (x1 - x0) * r.w; };
    var sy = function (b) { return r.y + r.h - (b - y0) / (y1 - y0) * r.h; };
    if (x0 <= 0 && 0 <= x1 && y0 <= 0 && 0 <= y1) star(ctx, sx(0), sy(0), 8);
    var X = sx(this.a), Y = sy(this.b);
    ctx.strokeStyle = 'rgba(255,255,255,0.8)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(X, r.y); ctx.lineTo(X, r.y + r.h);
    ctx.moveTo(r.x, Y); ctx.lineTo(r.x + r.w, Y);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(X, Y, 6, 0, 2 * Math.PI);
    ctx.fillStyle = 'rgba(255,255,255,0.35)';
    ctx.fill();
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#000000';
    ctx.stroke();
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
    drawAxes(ctx, r, [x0, x1], [y0, y1], 'a', 'b');
  };

  Explorer.prototype.showNumbers = function () {
    var q = this.root.querySelector.bind(this.root), tr = this.trainScore, te = this.testScore;
    q('.train-acc').textContent = percent(tr) + ' (' + tr.correct + '/' + tr.n + ')';
    q('.test-acc').textContent = percent(te) + ' (' + te.correct + '/' + te.n + ')';
    q('.train-loss').textContent = num(tr.loss);
    q('.test-loss').textContent = num(te.loss);
    this.sliderA.value = this.a;
    this.sliderB.value = this.b;
    q('.out-a').textContent = tickText(this.a);
    q('.out-b').textContent = tickText(this.b);
    var g = this.grid(), ix = nearest(g.xs, this.a), iy = nearest(g.ys, this.b), k = iy * g.xs.length + ix;
    var acc = function (v) { return v === null ? '\u2013' : (100 * v).toFixed(2) + '%'; };
    q('.grid-note').textContent = 'genviz at the nearest grid point (' + tickText(g.xs[ix]) + ', ' +
      tickText(g.ys[iy]) + '): train ' + acc(g.train_acc[k]) + ', loss ' + num(g.train_loss[k]) +
      '; test ' + acc(g.test_acc[k]) + ', loss ' + num(g.test_loss[k]) + '.';
    var ds = this.root.dataset;
    ds.a = String(this.a);
    ds.b = String(this.b);
    ds.trainCorrect = String(tr.correct);
    ds.trainN = String(tr.n);
    ds.trainLoss = String(tr.loss);
    ds.testCorrect = String(te.correct);
    ds.testN = String(te.n);
    ds.testLoss = String(te.loss);
  };

  // ---- a group of explorers on one scale ---------------------------------------------------

  function Group(section) {
    var self = this;
    this.section = section;
    this.d = JSON.parse(section.querySelector('script.explorer-data').textContent);
    this.scale = new Scale(this.d);
    var q = section.querySelector.bind(section);
    this.linked = !!(q('input.link') ? q('input.link').checked : this.d.linked);
    this.showTest = q('input.show-test').checked;
    this.snap = q('input.snap').checked;
    var roots = section.querySelectorAll('.explorer');
    this.explorers = this.d.explorers.map(function (d, i) { return new Explorer(self, i, roots[i], d); });
    if (q('input.link')) q('input.link').addEventListener('change', function (ev) { self.linked = ev.target.checked; });
    q('input.show-test').addEventListener('change', function (ev) {
      self.showTest = ev.target.checked;
      self.explorers.forEach(function (e) { e.schedule(); });
    });
    q('input.snap').addEventListener('change', function (ev) {
      self.snap = ev.target.checked;
      self.explorers.forEach(function (e) { e.setCoords(e.a, e.b); });
    });
    q('button.reset').addEventListener('click', function () {
      self.explorers.forEach(function (e) { e.setCoords(0, 0); });
    });
    section.querySelectorAll('.plane-toggle input').forEach(function (input) {
      input.addEventListener('change', function () {
        if (input.checked) self.setPlane(parseInt(input.value, 10));
      });
    });
    this.drawColorbar(q('canvas.colorbar'));
  }

  Group.prototype.moveTo = function (source, a, b) {
    var targets = this.linked ? this.explorers : [source];
    targets.forEach(function (e) { e.setCoords(a, b); });
  };

  Group.prototype.setPlane = function (p) {
    this.explorers.forEach(function (e) { e.setPlane(p); });
  };

  Group.prototype.drawColorbar = function (canvas) {
    var W = 560, H = 58, r = { x: 20, y: 18, w: 520, h: 12 }, s = this.scale, st = this.d.style;
    var ctx = setupCanvas(canvas, W, H);
    for (var i = 0; i < r.w; i++) {
      var c = s.color((i + 0.5) / r.w);
      ctx.fillStyle = rgbCss(c.map(Math.round));
      ctx.fillRect(r.x + i, r.y, 1, r.h);
    }
    ctx.strokeStyle = '#1d2330';
    ctx.strokeRect(r.x - 0.5, r.y - 0.5, r.w + 1, r.h + 1);
    ctx.fillStyle = '#1d2330';
    ctx.font = FONT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    this.d.ticks.forEach(function (v) {
      var x = r.x + s.t(v) * r.w;
      ctx.fillRect(Math.round(x) - 0.5, r.y + r.h, 1, 4);
      ctx.fillText(tickText(v), x, r.y + r.h + 6);
    });
    ctx.textBaseline = 'bottom';
    ctx.fillText('genviz\u2019s train loss' + (st.log ? ' (log scale)' : '') + ', clipped to [' +
      tickText(st.vmin) + ', ' + tickText(st.vmax) + ']', r.x + r.w / 2, r.y - 3);
  };

  // ---- start, and the hooks tests (and curious readers) can call ----------------------------

  var groups = [];
  function start() {
    if (!LITTLE_ENDIAN) {
      fail('this browser stores numbers big-endian; the explorer cannot read its weights');
      return;
    }
    document.querySelectorAll('section.explorers').forEach(function (section) {
      try {
        groups.push(new Group(section));
      } catch (err) {
        fail('the explorer could not start: ' + (err && err.stack ? err.stack : err));
      }
    });
    document.body.dataset.explorers = String(groups.length);
  }

  window.genvizExplorer = {
    // Moves explorer i of group g (and, when linked, the others) to (a, b); resolves once the
    // fine boundary is drawn, with the explorer's state.
    set: function (g, i, a, b) {
      var e = groups[g].explorers[i];
      return new Promise(function (resolve) {
        e.waiters.push(function () { resolve(window.genvizExplorer.state(g, i)); });
        groups[g].moveTo(e, a, b);
      });
    },
    // The numbers the readout shows, unrounded.
    state: function (g, i) {
      var e = groups[g].explorers[i];
      return { a: e.a, b: e.b, plane: e.plane, state: e.root.dataset.state, train: e.trainScore, test: e.testScore,
               cells: Number(e.root.dataset.cells), frameMs: Number(e.root.dataset.frameMs),
               fineMs: Number(e.root.dataset.fineMs) };
    },
    // The logits the page computes for the train or test points at (a, b) of the current plane.
    logits: function (g, i, a, b, which) {
      var e = groups[g].explorers[i], pl = e.planes[e.plane], set = e[which];
      var theta = pointTheta(e.theta0, pl.x, pl.y, a, b, new Float32Array(e.net.size));
      var n = set.labels.length, z = e.net.forward(theta, set.input, n);
      return Array.prototype.slice.call(z, 0, n * e.net.outputs);
    },
    // The page's float32 fused multiply-add, for checking against a real one.
    fmaf: fmaf,
    // Time of `repeat` coarse frames (the work of one pointer move), in milliseconds each.
    benchmark: function (g, i, repeat) {
      var e = groups[g].explorers[i], t0 = performance.now();
      for (var r = 0; r < repeat; r++) e.update();
      return (performance.now() - t0) / repeat;
    }
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
