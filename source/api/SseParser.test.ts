import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser, type SseMessage } from './SseParser.js';

const stream = 'retry: 2000\n\nid: 1\nevent: status\ndata: {"status":"queued"}\n\n: keep-alive\n\nid: 2\nevent: model_turn\ndata: {"text":"héllo ✓"}\n\n';

function feed(parser: SseParser, chunks: Array<string | Uint8Array>): SseMessage[] {
	return chunks.flatMap((c) => parser.push(c));
}

test('whole stream: events, ids, retry, comments ignored', () => {
	const parser = new SseParser();
	const out = parser.push(stream);
	assert.deepEqual(out, [
		{ id: '1', event: 'status', data: '{"status":"queued"}' },
		{ id: '2', event: 'model_turn', data: '{"text":"héllo ✓"}' },
	]);
	assert.equal(parser.lastEventId, '2');
	assert.equal(parser.retryMs, 2000);
});

test('split at every byte, UTF-8 sequences included', () => {
	const bytes = Buffer.from(stream, 'utf8');
	const parser = new SseParser();
	const out = feed(
		parser,
		[...bytes].map((b) => Uint8Array.of(b)),
	);
	assert.equal(out.length, 2);
	assert.equal(JSON.parse(out[1]!.data).text, 'héllo ✓');
});

test('every split point of a CRLF stream gives the same events', () => {
	const crlf = stream.replace(/\n/g, '\r\n');
	const expected = new SseParser().push(crlf);
	assert.equal(expected.length, 2);
	for (let i = 0; i <= crlf.length; i++) {
		const parser = new SseParser();
		assert.deepEqual(feed(parser, [crlf.slice(0, i), crlf.slice(i)]), expected, `split at ${i}`);
	}
	const cr = new SseParser().push(stream.replace(/\n/g, '\r'));
	assert.deepEqual(cr, expected);
});

test('multi-line data joined with newlines; default event type; no space after colon', () => {
	const parser = new SseParser();
	const out = parser.push('data:first\ndata: second\ndata\n\nevent:x\ndata:  two spaces\n\n');
	assert.deepEqual(out, [
		{ id: null, event: 'message', data: 'first\nsecond\n' },
		{ id: null, event: 'x', data: ' two spaces' },
	]);
});

test('an id without data updates the last id but dispatches nothing; an unterminated event is dropped at the end', () => {
	const parser = new SseParser();
	assert.deepEqual(parser.push('id: 7\n\n'), []);
	assert.equal(parser.lastEventId, '7');
	assert.deepEqual(parser.push('id: 8\ndata: half'), []);
	parser.end();
	assert.equal(parser.lastEventId, '8', 'the id field was complete, so it counts');
	assert.deepEqual(parser.push('data: next\n\n'), [{ id: '8', event: 'message', data: 'next' }]);
});

test('a leading BOM is skipped; bad retry ignored', () => {
	const parser = new SseParser();
	assert.deepEqual(parser.push('\ufeffretry: soon\ndata: a\n\n'), [{ id: null, event: 'message', data: 'a' }]);
	assert.equal(parser.retryMs, null);
});
