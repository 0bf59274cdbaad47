/** @jsxRuntime automatic */
/** @jsxImportSource react */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Box, Text } from 'ink';
import { render } from 'ink-testing-library';
import { inkFrameCacheHits, installInkFrameCache } from './inkFrameCache.js';

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
