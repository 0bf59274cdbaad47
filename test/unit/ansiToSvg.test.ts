// The docs' pictures are drawn from captured screens by scripts/docs/ansiToSvg.ts: colours (16, 256,
// truecolor, reverse), bold, wide characters placed on their columns, and text escaped for XML.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ansiToSvg, applySgr, color256, escapeXml, parseRow, theme } from '../../scripts/docs/ansiToSvg.ts';

const size = { columns: 20, rows: 3 };
const spans = (svg: string) => [...svg.matchAll(/<tspan ([^>]*)>([^<]*)<\/tspan>/g)].map((m) => ({ attributes: m[1]!, text: m[2]! }));
const attribute = (attributes: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)?.[1];

test('SGR colours: the 16, 256 and truecolor, foreground and background, and resets', () => {
	const reset = applySgr(applySgr(applySgr({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false }, '31'), '1'), '0');
	assert.deepEqual([reset.fg, reset.bold], [null, false]);
	const red = applySgr(reset, '31');
	assert.equal(red.fg, theme.palette[1]);
	assert.equal(applySgr(red, '39').fg, null);
	assert.equal(applySgr(reset, '92').fg, theme.palette[10]);
	assert.equal(applySgr(reset, '44').bg, theme.palette[4]);
	assert.equal(applySgr(reset, '38;5;196').fg, '#ff0000');
	assert.equal(applySgr(reset, '48;5;244').bg, '#808080');
	assert.equal(applySgr(reset, '38;2;18;52;86').fg, '#123456');
	const both = applySgr(reset, '1;38;5;21;48;2;0;0;0');
	assert.deepEqual([both.bold, both.fg, both.bg], [true, '#0000ff', '#000000']);
	assert.equal(color256(16), '#000000');
	assert.equal(color256(231), '#ffffff');
	assert.equal(color256(232), '#080808');
});

test('a coloured, bold run becomes one tspan with its fill and weight; plain text takes the default colour', () => {
	const svg = ansiToSvg('ok \x1b[1;32mrunning\x1b[0m done\n', size);
	const [first, second, third] = spans(svg);
	assert.deepEqual([first!.text, second!.text, third!.text], ['ok ', 'running', ' done']);
	assert.equal(attribute(first!.attributes, 'fill'), undefined);
	assert.equal(attribute(second!.attributes, 'fill'), theme.palette[2]);
	assert.equal(attribute(second!.attributes, 'font-weight'), 'bold');
	assert.equal(attribute(third!.attributes, 'font-weight'), undefined);
	// each run starts on its column: "running" on column 3
	assert.equal(Number(attribute(second!.attributes, 'x')), Number(attribute(first!.attributes, 'x')) + 3 * 8.4);
});

test('reverse video and backgrounds draw a rect under the run', () => {
	const svg = ansiToSvg('\x1b[7m sel \x1b[27m \x1b[41mX\x1b[49m\n', size);
	const rects = [...svg.matchAll(/<rect x="([^"]+)"[^>]* width="([^"]+)"[^>]* fill="([^"]+)"/g)].map((m) => ({ x: Number(m[1]), width: Number(m[2]), fill: m[3] }));
	assert.deepEqual(
		rects.map((r) => r.fill),
		[theme.foreground, theme.palette[1]],
	);
	assert.equal(rects[0]!.width, 5 * 8.4);
	assert.equal(attribute(spans(svg)[0]!.attributes, 'fill'), theme.background, 'reversed text in the background colour');
});

test('wide characters take two columns and the text after them stays on its column', () => {
	const cells = parseRow('a界b');
	assert.deepEqual(
		cells.map((c) => [c.text, c.width]),
		[
			['a', 1],
			['界', 2],
			['b', 1],
		],
	);
	const [a, wide, b] = spans(ansiToSvg('a界b\n', size));
	assert.equal(wide!.text, '界');
	assert.equal(Number(attribute(b!.attributes, 'x')) - Number(attribute(a!.attributes, 'x')), 3 * 8.4);
	assert.equal(attribute(wide!.attributes, 'textLength'), (2 * 8.4).toFixed(1));
	// a combining mark joins the character before it
	assert.deepEqual(
		parseRow('e\u0301x').map((c) => c.text),
		['e\u0301', 'x'],
	);
});

test('<, & and > are escaped, and escape sequences other than SGR leave nothing behind', () => {
	assert.equal(escapeXml('<a & "b">'), '&lt;a &amp; &quot;b&quot;&gt;');
	const svg = ansiToSvg('if a<b && c>d \x1b]0;title\x07\x1b[2Kend\n', size);
	assert.ok(svg.includes('if a&lt;b &amp;&amp; c&gt;d'), svg);
	assert.ok(!/[\x00-\x08\x1b]/.test(svg), 'no control characters in the SVG');
	assert.ok(!svg.includes('title'), 'the OSC title is dropped');
	assert.match(svg, /end<\/tspan>/);
});

test("the picture has the terminal's size and a title, and holds only its rows", () => {
	const svg = ansiToSvg('one\ntwo\nthree\nfour\n', { ...size, title: 'a <dashboard>' });
	assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="188" height="71"/);
	assert.match(svg, /<title>a &lt;dashboard&gt;<\/title>/);
	assert.deepEqual(
		spans(svg).map((s) => s.text),
		['one', 'two', 'three'],
	);
});
