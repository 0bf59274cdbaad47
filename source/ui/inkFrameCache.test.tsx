/** @jsxRuntime automatic */
/** @jsxImportSource react */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Box, Text } from 'ink';
import { render } from 'ink-testing-library';
import { inkFrameCacheHits, installInkFrameCache, plainAsciiFirst } from './inkFrameCache.js';
import { inkAnsiTokenizeModule } from './inkPrivate.js';

function Screen({ counter }: { counter: number }) {
	return (
		<Box flexDirection="column">
			<Text color="cyan">a line that stays the same on every frame</Text>
			<Text>{`counter ${counter}`}</Text>
			<Text dimColor>wide: 日本語 and ─── rules</Text>
		</Box>
	);
}

test('the frame cache applies to the Ink we ship', async () => {
	assert.equal(await installInkFrameCache(), true, 'Ink no longer has the shape inkFrameCache patches: see its comment');
	assert.equal(await installInkFrameCache(), true, 'installing twice is harmless');
});

test('frames reuse the texts of the previous frame and still show what changed', async () => {
	await installInkFrameCache();
	const ui = render(<Screen counter={1} />);
	const before = inkFrameCacheHits();
	for (let counter = 2; counter <= 5; counter++) {
		ui.rerender(<Screen counter={counter} />);
		assert.equal(ui.lastFrame(), ['a line that stays the same on every frame', `counter ${counter}`, 'wide: 日本語 and ─── rules'].join('\n'));
	}
	assert.ok(inkFrameCacheHits() - before >= 4 * 2, `unchanged texts answered from the cache (${inkFrameCacheHits() - before} hits)`);
	ui.unmount();
});

test("printable ASCII texts get the styled characters Ink's tokenizer makes, others go to it", async () => {
	// what Ink's getStyledChars computes (ink/build/output.js), from the tokenizer Ink imports
	const { styledCharsFromTokens, tokenize } = (await inkAnsiTokenizeModule()) as { styledCharsFromTokens(t: unknown): Array<{ value: string }>; tokenize(s: string): unknown };
	const inkOwn = (text: string) => styledCharsFromTokens(tokenize(text)).filter((c) => !/^\p{Default_Ignorable_Code_Point}+$/u.test(c.value));
	const asked: string[] = [];
	const tokenizer = (text: string) => {
		asked.push(text);
		return inkOwn(text);
	};
	const fast = plainAsciiFirst(tokenizer);
	for (const text of ['', 'a plain log line: {"level":"info","n":42} ~!@#$%^&*()_+`', ' '.repeat(120)]) {
		assert.deepEqual(fast.call({}, text), inkOwn(text), JSON.stringify(text));
	}
	asked.length = 0;
	for (const text of ['\u001b[31mred\u001b[39m', 'tab\there', 'wide 日本語', 'é', '\u007f']) {
		assert.deepEqual(fast.call({}, text), inkOwn(text), JSON.stringify(text));
	}
	assert.equal(asked.length, 5, 'texts other than printable ASCII are tokenized by Ink');
});
