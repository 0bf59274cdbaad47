import assert from 'node:assert/strict';
import stringWidth from 'string-width';
import { test } from 'node:test';
import { LogBook, cleanLine } from './LogBook.js';
import { LogRing, type LogEntry } from './LogRing.js';
import { FilteredLines, LogViewCache, compileFilter, ringList, scrollAnchor, visibleWindow, wrapRows } from './logView.js';

const line = (i: number, text = `line ${i}`) => ({ service: i % 2 ? 'odd' : 'even', stream: 'stdout' as const, time: '', timeMs: i, line: text });

function bookWith(n: number, capacity = 100) {
	const book = new LogBook(capacity);
	book.append(Array.from({ length: n }, (_, i) => line(i + 1)));
	return book;
}

test('cleanLine strips ANSI and the newline, and shows other control characters escaped', () => {
	assert.equal(cleanLine('\x1b[31mred\x1b[0m text\r\n'), 'red text');
	assert.equal(cleanLine('a\tb\x07c'), 'a    b^Gc');
	assert.equal(cleanLine('INFO real\rINFO forged'), 'INFO real^MINFO forged');
	assert.equal(cleanLine('\x1b]0;title\x07plain'), 'plain');
});

test('compileFilter: substring (smart case) and /regex/', () => {
	assert.equal(compileFilter('').test, null);
	assert.ok(compileFilter('error').test!('An ERROR here'));
	assert.ok(!compileFilter('Error').test!('an error here'));
	assert.ok(compileFilter('/^GET \\/v1/').test!('GET /v1/executions'));
	assert.ok(compileFilter('/warn|error/i').test!('ERROR'));
	const bad = compileFilter('/(/');
	assert.match(bad.error!, /invalid regex/);
	assert.equal(bad.test!('('), false);
});

test('the book keeps one ring per service and one of all', () => {
	const book = bookWith(10);
	assert.equal(book.all.size, 10);
	assert.equal(book.ring('odd').size, 5);
	assert.deepEqual(book.services.sort(), ['even', 'odd']);
	assert.equal(book.ring('odd').at(0)?.seq, book.all.at(0)?.seq);
});

test('filtered lines update incrementally and drop what the ring dropped', () => {
	const ring = new LogRing(10);
	let seq = 0;
	const push = (text: string) => ring.push({ seq: ++seq, service: 's', stream: 'stdout', timeMs: 0, line: text } satisfies LogEntry);
	const filtered = new FilteredLines(ring, 'x', (l) => l.includes('x'));
	push('x1');
	push('a');
	push('x2');
	assert.equal(filtered.update().length, 2);
	for (let i = 0; i < 9; i++) push(i % 3 === 0 ? `x${i}` : 'b');
	filtered.update();
	// ring now holds seqs 3..12: x2, then x0, x3, x6
	assert.deepEqual(
		Array.from({ length: filtered.length }, (_, i) => filtered.at(i)!.line),
		['x2', 'x0', 'x3', 'x6'],
	);
	assert.equal(filtered.lowerBound(seq - 2), 3);
	assert.equal(filtered.lowerBound(seq), 4);
});

test('the view cache reuses the scan for the same ring and filter', () => {
	const book = bookWith(20);
	const cache = new LogViewCache();
	const first = cache.lines(book.all, '/1$/');
	assert.deepEqual(
		Array.from({ length: first.list.length }, (_, i) => first.list.at(i)!.line),
		['line 1', 'line 11'],
	);
	book.append([line(21)]);
	const second = cache.lines(book.all, '/1$/');
	assert.equal(second.list, first.list);
	assert.equal(second.list.length, 3);
	assert.equal(cache.lines(book.all, '').list.length, 21);
	assert.match(cache.lines(book.all, '/[/').error!, /invalid regex/);
});

test('following shows the tail', () => {
	const list = ringList(bookWith(50).all);
	const window = visibleWindow(list, { follow: true, anchorSeq: null, height: 10, width: 80, wrap: false });
	assert.deepEqual([window.visibleFrom, window.visibleTo, window.rows.length, window.atBottom], [40, 50, 10, true]);
	assert.equal(window.rows.at(-1)?.text, 'line 50');
	assert.equal(window.bottomSeq, 50);
});

test('a paused view stays on its anchor while lines arrive', () => {
	const book = bookWith(50);
	const list = ringList(book.all);
	const options = { follow: false, anchorSeq: 30, height: 5, width: 80, wrap: false };
	const before = visibleWindow(list, options);
	book.append([line(51), line(52)]);
	const after = visibleWindow(list, options);
	assert.deepEqual(
		after.rows.map((r) => r.text),
		before.rows.map((r) => r.text),
	);
	assert.equal(after.rows.at(-1)?.text, 'line 30');
	assert.equal(after.atBottom, false);
});

test('an anchor the ring dropped clamps to the oldest lines', () => {
	const book = bookWith(150, 100); // all ring holds 200: use a service ring of 100 lines
	const list = ringList(book.ring('odd'));
	const window = visibleWindow(list, { follow: false, anchorSeq: 1, height: 5, width: 80, wrap: false });
	assert.equal(window.visibleFrom, 0);
	assert.equal(window.rows.length, 1);
});

test('wrapping splits long lines into rows and counts them against the height', () => {
	assert.deepEqual(wrapRows('abcdefgh', 3), ['abc', 'def', 'gh']);
	assert.deepEqual(wrapRows('ab', 3), ['ab']);
	const book = new LogBook(10);
	book.append([line(1, 'short'), line(2, 'x'.repeat(25))]);
	const window = visibleWindow(ringList(book.all), { follow: true, anchorSeq: null, height: 3, width: 10, wrap: true });
	assert.deepEqual(
		window.rows.map((r) => [r.text.length, r.first]),
		[
			[10, true],
			[10, false],
			[5, false],
		],
	);
	assert.equal(window.visibleFrom, 1);
	const tall = visibleWindow(ringList(book.all), { follow: true, anchorSeq: null, height: 2, width: 10, wrap: true });
	assert.deepEqual(
		tall.rows.map((r) => r.first),
		[false, false],
	);
	const unwrapped = visibleWindow(ringList(book.all), { follow: true, anchorSeq: null, height: 3, width: 10, wrap: false });
	assert.equal(unwrapped.rows.length, 2);
});

test('scrolling up anchors, scrolling back down to the tail resumes following', () => {
	const list = ringList(bookWith(50).all);
	const tail = visibleWindow(list, { follow: true, anchorSeq: null, height: 10, width: 80, wrap: false });
	const up = scrollAnchor(list, tail, -10);
	assert.equal(up, 40);
	const paused = visibleWindow(list, { follow: false, anchorSeq: up, height: 10, width: 80, wrap: false });
	assert.equal(paused.rows.at(-1)?.text, 'line 40');
	assert.equal(scrollAnchor(list, paused, 10), null);
	assert.equal(scrollAnchor(list, paused, 5), 45);
	// the top: the first line stays at the top of a full pane
	assert.equal(scrollAnchor(list, paused, -1000), 10);
	assert.equal(scrollAnchor(ringList(new LogRing(2)), paused, -1), null);
});

test('wrapRows cuts by terminal cells: wide characters fill a row by their width, and the rows give the line back', () => {
	const line = '全角文字👦👨‍👩‍👧‍👦e\u0301x';
	for (const width of [2, 3, 5, 8]) {
		const rows = wrapRows(line, width);
		assert.equal(rows.join(''), line);
		for (const row of rows) assert.ok(stringWidth(row) <= width, `width ${width}: ${JSON.stringify(rows)}`);
	}
});

test('a batch of several services reads back line by line, cleaned, in each ring and in the all-services ring', () => {
	const book = new LogBook(1000);
	const texts = ['\x1b[31mred\x1b[0m one', 'two\r\n', 'tab\there', '', 'é ünïcode 日本', 'last'];
	// two batches, the services interleaved, so each ring slices chunks of both batches
	book.append(texts.slice(0, 3).map((text, i) => line(i + 1, text)));
	book.append(texts.slice(3).map((text, i) => line(i + 4, text)));
	const cleaned = texts.map(cleanLine);
	assert.deepEqual(
		Array.from({ length: book.all.size }, (_, i) => book.all.at(i)!.line),
		cleaned,
	);
	assert.deepEqual(
		Array.from({ length: book.ring('odd').size }, (_, i) => [book.ring('odd').at(i)!.seq, book.ring('odd').at(i)!.line]),
		[
			[1, cleaned[0]],
			[3, cleaned[2]],
			[5, cleaned[4]],
		],
	);
	assert.deepEqual(
		Array.from({ length: book.ring('even').size }, (_, i) => book.ring('even').at(i)!.line),
		[cleaned[1], cleaned[3], cleaned[5]],
	);
	assert.deepEqual(book.all.at(5), { seq: 6, service: 'even', stream: 'stdout', timeMs: 6, line: 'last' });
});

test('a ring grows past its first columns and then wraps, keeping every line and its order', () => {
	const book = new LogBook(700);
	for (let batch = 0; batch < 10; batch++) book.append(Array.from({ length: 100 }, (_, i) => line(batch * 100 + i + 1, `flood ${batch * 100 + i + 1}`)));
	const odd = book.ring('odd');
	assert.equal(odd.size, 500);
	assert.deepEqual([odd.at(0)!.line, odd.at(499)!.line], ['flood 1', 'flood 999']);
	assert.equal(book.all.size, 700);
	assert.deepEqual([book.all.at(0)!.line, book.all.at(699)!.line, book.all.firstSeq, book.all.lastSeq], ['flood 301', 'flood 1000', 301, 1000]);
	const filtered = new FilteredLines(book.all, '99', compileFilter('99').test!).update();
	assert.deepEqual(
		Array.from({ length: filtered.length }, (_, i) => filtered.at(i)!.line),
		[
			'flood 399',
			'flood 499',
			'flood 599',
			'flood 699',
			'flood 799',
			'flood 899',
			'flood 990',
			'flood 991',
			'flood 992',
			'flood 993',
			'flood 994',
			'flood 995',
			'flood 996',
			'flood 997',
			'flood 998',
			'flood 999',
		],
	);
});
