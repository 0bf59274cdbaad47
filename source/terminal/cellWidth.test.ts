import assert from 'node:assert/strict';
import { test } from 'node:test';
import stringWidth from 'string-width';
import { cellWidth, truncateCells, wrapCells } from './cellWidth.js';

const lines = [
	'全角文字のテスト行です、折り返しで文字が失われないこと',
	'emoji 👦🏽 family 👨‍👩‍👧‍👦 flag 🇯🇵 keycap 1️⃣ end',
	'combining: e\u0301 a\u0308 o\u0302\u0323 and zalgo Z\u0351\u0352\u0353 tail',
	'mix ASCII and 漢字 and 한국어 and 🏳️‍🌈 together, then ｆｕｌｌｗｉｄｔｈ',
	'plain ascii line that is long enough to wrap several times at narrow widths',
];

test('wrapping by cells loses and repeats nothing, and no row is wider than the pane', () => {
	for (const line of lines) {
		for (const width of [2, 3, 4, 5, 7, 10, 13, 20, 80]) {
			const rows = wrapCells(line, width);
			assert.equal(rows.join(''), line, `width ${width}: ${JSON.stringify(rows)}`);
			for (const row of rows) assert.ok(stringWidth(row) <= width, `width ${width}: row ${JSON.stringify(row)} is ${stringWidth(row)} cells`);
			for (const row of rows.slice(0, -1)) assert.ok(row.length > 0);
			// rows are full: the next row's first grapheme would not have fitted
			for (let i = 0; i + 1 < rows.length; i++) {
				const next = [...new Intl.Segmenter().segment(rows[i + 1]!)][0]!.segment;
				assert.ok(stringWidth(rows[i]!) + stringWidth(next) > width, `width ${width}: row ${i} could hold more`);
			}
		}
	}
});

test('a ZWJ sequence or a letter with its combining marks is never split', () => {
	const family = '👨‍👩‍👧‍👦';
	assert.deepEqual(wrapCells(`ab${family}cd`, 3), ['ab', `${family}c`, 'd']);
	assert.deepEqual(wrapCells('e\u0301e\u0301e\u0301', 2), ['e\u0301e\u0301', 'e\u0301']);
	// a wide character in a one-cell pane gets its own row rather than being lost
	assert.deepEqual(wrapCells('a全b', 1), ['a', '全', 'b']);
});

test('truncation keeps the longest start that fits, cut between graphemes', () => {
	assert.equal(truncateCells('全角文字', 5), '全角');
	assert.equal(truncateCells('ab👨‍👩‍👧‍👦cd', 3), 'ab');
	assert.equal(truncateCells('ab👨‍👩‍👧‍👦cd', 4), 'ab👨‍👩‍👧‍👦');
	assert.equal(truncateCells('abc', 10), 'abc');
	assert.equal(truncateCells('abcdef', 4), 'abcd');
	for (const line of lines) for (const width of [1, 4, 9, 30]) assert.ok(stringWidth(truncateCells(line, width)) <= width);
});

test('cellWidth agrees with string-width and takes the ASCII fast path', () => {
	for (const line of lines) assert.equal(cellWidth(line), stringWidth(line));
	assert.equal(cellWidth('abc'), 3);
});
