'use strict';
// Each screenshot marks itself once it has really loaded (data-loaded="yes", or "no"),
// so a broken evidence link shows, and ft's own test can check the page in a browser.
for (const img of document.querySelectorAll('.evidence img')) {
  const mark = () => { img.dataset.loaded = img.naturalWidth > 0 ? 'yes' : 'no'; };
  if (img.complete) { mark(); } else { img.addEventListener('load', mark); img.addEventListener('error', mark); }
}

// Filters: a status, a tag, words of the name. A scenario shows when it matches all three.
const sections = [...document.querySelectorAll('#scenarios > section.scenario')];
const filters = document.getElementById('filters');
const byName = document.getElementById('filter-name');
const byTag = document.getElementById('filter-tag');
const shown = document.getElementById('filter-shown');
function applyFilters() {
  const checked = filters.querySelector('input[name="status"]:checked');
  const status = checked ? checked.value : '';
  const tag = byTag ? byTag.value : '';
  const words = byName.value.toLowerCase().split(/\s+/).filter(Boolean);
  let n = 0;
  for (const s of sections) {
    const name = s.querySelector('.name').textContent.toLowerCase();
    const tags = [...s.querySelectorAll('.tag')].map((t) => t.textContent);
    const match = (!status || s.dataset.status === status) && (!tag || tags.includes(tag))
      && words.every((w) => name.includes(w));
    s.hidden = !match;
    if (match) { n += 1; }
  }
  shown.textContent = n === sections.length ? `all ${n} shown` : `${n} of ${sections.length} shown`;
}
if (filters) {
  filters.hidden = false;
  filters.addEventListener('input', applyFilters);
  filters.addEventListener('change', applyFilters);
  document.getElementById('scenarios').addEventListener('click', (e) => {
    const chip = e.target.closest('.tag');
    if (chip && byTag) { byTag.value = chip.textContent; applyFilters(); }
  });
  applyFilters();
}
// A link to a scenario (a bar of the timeline) shows it even when a filter hid it.
function reveal() {
  const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target && target.hidden && filters) {
    filters.querySelector('input[name="status"][value=""]').checked = true;
    byName.value = '';
    if (byTag) { byTag.value = ''; }
    applyFilters();
    target.scrollIntoView();
  }
}
window.addEventListener('hashchange', reveal);
reveal();

// Screenshots and filmstrip frames at full size, in a dialog; the arrows step through
// the attempt's pictures. Without <dialog>, the link opens the picture itself.
const viewer = document.getElementById('viewer');
if (viewer && typeof viewer.showModal === 'function') {
  // Made here, not in the markup: every image of the page's markup is evidence.
  const big = viewer.querySelector('figure').appendChild(document.createElement('img'));
  const caption = viewer.querySelector('figcaption');
  const size = document.getElementById('viewer-size');
  let group = [];
  let at = 0;
  const show = (i) => {
    at = (i + group.length) % group.length;
    const link = group[at];
    const fig = link.closest('figure');
    delete big.dataset.loaded;
    size.textContent = '';
    big.src = link.getAttribute('href');
    big.alt = link.querySelector('img').alt;
    caption.textContent = `${at + 1} of ${group.length}: ` + (fig ? fig.querySelector('figcaption').textContent : big.alt);
  };
  big.addEventListener('load', () => {
    big.dataset.loaded = 'yes';
    const scale = Math.round((big.width / big.naturalWidth) * 100);
    size.textContent = `${big.naturalWidth} × ${big.naturalHeight} px, shown at ${scale}%`;
  });
  big.addEventListener('error', () => { big.dataset.loaded = 'no'; size.textContent = 'the picture did not load'; });
  document.addEventListener('click', (e) => {
    const link = e.target.closest('a.shot');
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    e.preventDefault();
    group = [...link.closest('.attempt').querySelectorAll('a.shot')];
    show(group.indexOf(link));
    viewer.showModal();
  });
  document.getElementById('viewer-prev').addEventListener('click', () => show(at - 1));
  document.getElementById('viewer-next').addEventListener('click', () => show(at + 1));
  document.getElementById('viewer-close').addEventListener('click', () => viewer.close());
  viewer.addEventListener('click', (e) => { if (e.target === viewer) { viewer.close(); } });
  viewer.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') { show(at - 1); } else if (e.key === 'ArrowRight') { show(at + 1); }
  });
}
