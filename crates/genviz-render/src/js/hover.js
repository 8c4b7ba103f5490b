// The hover view (genviz-render, hover.rs): pointing at a grid point of a 3-D surface (plotly
// sends `genviz-hover` events from it) or of the flat map beside it shows the numbers genviz
// computed there, and the predictions for a strip of test images. Nothing is computed here
// but the lookup of the nearest grid point.
(function () {
  'use strict';
  var fail = window.genvizReportError || function (m) { throw new Error(m); };
  var SIZE = 340, PAD = 6;

  // The colour at t in 0..1 of genviz's viridis (its control colours come with the data).
  function colorAt(colors, t) {
    var n = colors.length - 1, pos = Math.min(Math.max(t, 0), 1) * n;
    var i = Math.min(Math.floor(pos), n - 1), f = pos - i, a = colors[i], b = colors[i + 1];
    return [0, 1, 2].map(function (c) { return Math.round(a[c] + (b[c] - a[c]) * f); });
  }

  function nearest(axis, v) {
    var best = 0;
    for (var i = 1; i < axis.length; i++) if (Math.abs(axis[i] - v) < Math.abs(axis[best] - v)) best = i;
    return best;
  }

  function num(v) { return v === null ? '\u2013' : Number(v.toPrecision(4)).toString(); }
  function pct(v) { return v === null ? '\u2013' : (100 * v).toFixed(2) + '%'; }

  function View(section) {
    var self = this;
    this.section = section;
    this.d = JSON.parse(section.querySelector('script.hover-data').textContent);
    var d = this.d;
    this.canvas = section.querySelector('canvas.hover-map');
    var dpr = window.devicePixelRatio || 1;
    this.canvas.width = SIZE * dpr;
    this.canvas.height = SIZE * dpr;
    this.canvas.style.width = SIZE + 'px';
    this.canvas.style.height = SIZE + 'px';
    this.ctx = this.canvas.getContext('2d');
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // The map's colours span the finite heights, as the 3-D surface's colour scale does.
    var lo = Infinity, hi = -Infinity;
    d.z.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    this.lo = lo;
    this.hi = hi > lo ? hi : lo + 1;
    this.image = this.renderImage();
    this.canvas.addEventListener('pointermove', function (ev) { self.pointAt(ev); });
    this.canvas.addEventListener('pointerdown', function (ev) { self.pointAt(ev); });
    var plot = document.getElementById('genviz-surface-' + section.dataset.surface);
    if (plot) {
      plot.addEventListener('genviz-hover', function (ev) {
        self.select(nearest(d.xs, ev.detail.x), nearest(d.ys, ev.detail.y));
      });
    }
    // Start at the grid point nearest the trained model, (0, 0).
    this.select(nearest(d.xs, 0), nearest(d.ys, 0));
  }

  // One square cell per grid point, gaps grey, rows upwards.
  View.prototype.renderImage = function () {
    var d = this.d, nx = d.xs.length, ny = d.ys.length, off = document.createElement('canvas');
    off.width = nx;
    off.height = ny;
    var octx = off.getContext('2d'), img = octx.createImageData(nx, ny);
    for (var iy = 0; iy < ny; iy++) {
      for (var ix = 0; ix < nx; ix++) {
        var v = d.z[iy * nx + ix], c = v === null ? [235, 235, 235] : colorAt(d.colors, (v - this.lo) / (this.hi - this.lo));
        var k = 4 * ((ny - 1 - iy) * nx + ix);
        img.data[k] = c[0]; img.data[k + 1] = c[1]; img.data[k + 2] = c[2]; img.data[k + 3] = 255;
      }
    }
    octx.putImageData(img, 0, 0);
    return off;
  };

  View.prototype.pointAt = function (ev) {
    var box = this.canvas.getBoundingClientRect(), d = this.d;
    var fx = (ev.clientX - box.left) / box.width * SIZE, fy = (ev.clientY - box.top) / box.height * SIZE;
    var ix = Math.floor((fx - PAD) / (SIZE - 2 * PAD) * d.xs.length);
    var iy = d.ys.length - 1 - Math.floor((fy - PAD) / (SIZE - 2 * PAD) * d.ys.length);
    if (ix >= 0 && ix < d.xs.length && iy >= 0 && iy < d.ys.length) this.select(ix, iy);
  };

  View.prototype.select = function (ix, iy) {
    var d = this.d, nx = d.xs.length, ny = d.ys.length, k = iy * nx + ix, q = this.section.querySelector.bind(this.section);
    this.ix = ix;
    this.iy = iy;
    var ctx = this.ctx, w = SIZE - 2 * PAD;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, SIZE, SIZE);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, PAD, PAD, w, w);
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(PAD + ix * w / nx, PAD + (ny - 1 - iy) * w / ny, w / nx, w / ny);
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#000000';
    ctx.strokeRect(PAD + ix * w / nx - 1.5, PAD + (ny - 1 - iy) * w / ny - 1.5, w / nx + 3, w / ny + 3);
    q('.coords').textContent = d.x_label + ' = ' + num(d.xs[ix]) + ', ' + d.y_label + ' = ' + num(d.ys[iy]) +
      ' (' + d.z_label + ' ' + num(d.z[k]) + ')';
    q('.train-acc').textContent = pct(d.train_acc[k]);
    q('.train-loss').textContent = num(d.train_loss[k]);
    q('.test-acc').textContent = pct(d.test_acc[k]);
    q('.test-loss').textContent = num(d.test_loss[k]);
    var strip = d.strip;
    if (strip) {
      var n = strip.labels.length;
      this.section.querySelectorAll('.strip figure').forEach(function (fig, i) {
        var p = strip.predictions[k * n + i], span = fig.querySelector('.prediction');
        span.textContent = p === null ? '\u2013' : '\u2192 ' + strip.class_names[p];
        span.className = 'prediction ' + (p === null ? '' : p === strip.labels[i] ? 'ok' : 'wrong');
      });
    }
    this.section.dataset.ix = String(ix);
    this.section.dataset.iy = String(iy);
  };

  var views = [];
  function start() {
    document.querySelectorAll('section.hover-view').forEach(function (section) {
      try {
        views.push(new View(section));
      } catch (err) {
        fail('the hover view could not start: ' + (err && err.stack ? err.stack : err));
      }
    });
    document.body.dataset.hoverViews = String(views.length);
  }
  window.genvizHover = {
    select: function (v, ix, iy) { views[v].select(ix, iy); },
    state: function (v) { return { ix: views[v].ix, iy: views[v].iy }; }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
