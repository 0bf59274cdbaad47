import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphemeSegmenter } from './graphemeSegmenter.js';

const icu = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const ours = new GraphemeSegmenter(undefined, { granularity: 'grapheme' });
const segmentsOf = (segments: Iterable<{ segment: string; index: number }>) => [...segments].map(({ segment, index }) => [segment, index]);

/** Every code point of the ranges the class answers itself, as in its pattern. */
const ownRanges: Array<[number, number]> = [
	[0x00, 0x0c],
	[0x0e, 0x7e],
	[0x80, 0xac],
	[0xae, 0x2ff],
	[0x2010, 0x2027],
	[0x2030, 0x205e],
	[0x2190, 0x27bf],
	[0x2800, 0x28ff],
	[0x3400, 0x4dbf],
	[0x4e00, 0x9fff],
];
const own = ownRanges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)));

test('each code point it answers for is a grapheme of its own, beside any other of them, as ICU says', () => {
	// every one after and before one of each kind (all pairs would be 1.2 billion segmentations)
	const neighbours = ['\n', '\x1b', '\x7f', 'a', ' ', 'é', 'ʰ', '…', '›', '─', '✔', '⠋', '日'];
	for (const c of own) {
		for (const n of neighbours) {
			for (const text of [c + n, n + c]) assert.deepEqual(segmentsOf(ours.segment(text)), segmentsOf(icu.segment(text)), `segments of ${JSON.stringify(text)}`);
		}
	}
	const all = own.join('');
	assert.deepEqual(segmentsOf(ours.segment(all)), segmentsOf(icu.segment(all)));
});

test('anything else goes to ICU: combining marks, ZWJ sequences, flags, emoji with modifiers, Hangul, CR LF', () => {
	for (const text of ['a\r\n', 'e\u0301', 'か\u3099', 'a\u00adb', '👩‍💻 ok', '🇫🇷', '👍🏽', '✔\ufe0f', '한국어', '각', 'a\r\nb', 'x\u200dy', '日本語 ›', '']) {
		assert.deepEqual(segmentsOf(ours.segment(text)), segmentsOf(icu.segment(text)), `segments of ${JSON.stringify(text)}`);
	}
});

test('what the dashboard draws is answered without ICU, segment by segment as ICU would', () => {
	const text = '\x1b[36m› agent-runner\x1b[39m  running  ▁▂▃▅▇ 12.5 %  …  ─│┌┐└┘  ✔ ✖ ● ◆ ↑↓ ⠋  « café » 日本語\n';
	const segments = ours.segment(text);
	assert.notEqual(Object.getPrototypeOf(segments), Object.getPrototypeOf(icu.segment('')), 'not ICU segments');
	assert.deepEqual(segmentsOf(segments), segmentsOf(icu.segment(text)));
	assert.deepEqual(segments.containing(2), icu.segment(text).containing(2));
	assert.equal(segments.containing(text.length), undefined);
});

test('words and sentences, and the resolved options, are ICU as before', () => {
	const words = new GraphemeSegmenter('en', { granularity: 'word' });
	assert.deepEqual(
		[...words.segment('two words')].map((s) => s.segment),
		['two', ' ', 'words'],
	);
	assert.equal(new GraphemeSegmenter().resolvedOptions().granularity, 'grapheme');
});
