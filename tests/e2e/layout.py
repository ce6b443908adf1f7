"""Checks that a page reads at a phone's width: no word broken across lines, nothing scrolled sideways."""

# Each word of each visible text node in <main>: a word whose characters lie on more than one
# line was broken mid-word. A hyphen is a place where lines may break ("CAR-" / "T"), as
# between words, so the parts of a hyphenated word are checked each on its own.
# Then anything wider than its box: the page, or a scrolling block.
BROKEN_WORDS_SCRIPT = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !parent.checkVisibility() || parent.closest(".visually-hidden")) continue;
    for (const match of node.data.matchAll(/[^\\s-]+-?/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      const tops = new Set(rects.map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""

OVERFLOW_SCRIPT = """() => {
  const wide = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) wide.push(`the page: ${root.scrollWidth} > ${root.clientWidth}`);
  for (const el of document.querySelectorAll("main *")) {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return wide;
}"""


def assert_reads_without_breaks(page, name):
    broken = page.evaluate(BROKEN_WORDS_SCRIPT)
    assert broken == [], f"{name}: words broken across lines: {broken}"
    wide = page.evaluate(OVERFLOW_SCRIPT)
    assert wide == [], f"{name}: scrolls sideways: {wide}"
