/** @jsxRuntime automatic */
/** @jsxImportSource react */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Box, Text, Transform } from 'ink';
import { render } from 'ink-testing-library';
import { fixtureLog, fixtureSample, seedFixture } from '../dashboard/FixtureBackend.js';
import { DashboardStore } from '../store/DashboardStore.js';
import { Dashboard } from './components/Dashboard.js';
import { installInkFrameCache } from './inkFrameCache.js';
import { inkOwnOutput, installInkOutput } from './inkOutput.js';
import { inkOutputModule } from './inkPrivate.js';

type Output = { width: number; height: number; operations: unknown[]; caches: object; get(): { output: string; height: number } };

/** Every frame drawn while `draw` runs is drawn again by Ink's own Output methods: both must be equal. */
async function comparedWithInk(draw: () => Promise<void> | void): Promise<number> {
	const prototype = ((await inkOutputModule()).default as { prototype: Output }).prototype;
	const ours = prototype.get;
	const own = inkOwnOutput()!;
	let frames = 0;
	prototype.get = function (this: Output) {
		const drawn = ours.call(this);
		// the same operations through Ink's get and applyWriteOperation (its other methods as they are)
		const reference = Object.assign(Object.create(prototype) as Output, { width: this.width, height: this.height, operations: this.operations, caches: this.caches }, own);
		assert.deepEqual(drawn, own.get.call(reference), `frame ${frames + 1} differs from Ink's own`);
		frames++;
		return drawn;
	};
	try {
		await draw();
	} finally {
		prototype.get = ours;
	}
	return frames;
}

function Screen({ n }: { n: number }) {
	return (
		<Box flexDirection="column" width={40}>
			<Text color="cyan">a line that stays the same on every frame</Text>
			<Text>{`counter ${n}`}</Text>
			<Box width={12} overflow="hidden">
				<Text wrap="truncate">{`cut by the box ${'x'.repeat(n)} 日本語`}</Text>
			</Box>
			<Box width={10} overflow="hidden">
				<Box marginLeft={-3 - (n % 2)} flexShrink={0}>
					<Text>{`shifted ${n} 日本語 text`}</Text>
				</Box>
			</Box>
			<Box height={2} overflow="hidden" flexDirection="column">
				<Text>{['first', 'second', `third ${n}`].join('\n')}</Text>
			</Box>
			<Transform transform={(line, index) => `${index}:${line.toUpperCase()}`}>
				<Text dimColor>{`two lines\nmoved ${n}`}</Text>
			</Transform>
			<Box marginLeft={n % 3}>
				<Text backgroundColor="blue">{`日本${n % 2 ? '語' : ''} wide`}</Text>
			</Box>
			<Text>{n % 2 ? 'odd frame' : ''}</Text>
		</Box>
	);
}

test('the faster Output applies to the Ink we ship', async () => {
	assert.equal(await installInkOutput(), true, 'Ink no longer has the shape inkOutput replaces: see its comment');
	assert.equal(await installInkOutput(), true, 'installing twice is harmless');
});

test("frames with clipping, wide characters, transforms and colours are Ink's own, frame after frame", async () => {
	await installInkFrameCache();
	await installInkOutput();
	const frames = await comparedWithInk(() => {
		const ui = render(<Screen n={0} />);
		for (let n = 1; n <= 8; n++) {
			ui.rerender(<Screen n={n} />);
			assert.match(ui.lastFrame() ?? '', new RegExp(`counter ${n}\\b`), 'a changed row is drawn anew');
		}
		ui.rerender(<Screen n={8} />);
		ui.unmount();
	});
	assert.ok(frames >= 9, `${frames} frames compared`);
});

test("the dashboard's frames (samples, sparklines, logs scrolling) are Ink's own", async () => {
	await installInkFrameCache();
	await installInkOutput();
	const store = new DashboardStore({ statsIntervalMs: 0, flushMs: 0 });
	seedFixture(store, { lines: 30, samples: 60 });
	store.flush();
	const frames = await comparedWithInk(async () => {
		const ui = render(<Dashboard store={store} commands={{ run: async () => {}, shell: async () => {} }} size={{ columns: 120, rows: 40 }} />);
		for (let i = 0; i < 12; i++) {
			store.recordSample('agent-runner', fixtureSample('agent-runner', 100 + i));
			if (i % 3 === 0) store.appendLogs(Array.from({ length: i }, (_, n) => fixtureLog(1000 + i * 10 + n)));
			store.flush();
			await new Promise((resolve) => setImmediate(resolve));
		}
		ui.unmount();
	});
	assert.ok(frames >= 5, `${frames} frames compared`);
});
