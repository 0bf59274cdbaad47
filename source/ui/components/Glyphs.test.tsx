/** @jsxRuntime automatic */
/** @jsxImportSource react */
// Glyphs works below Ink's public API: it relies on Ink measuring a text before an outermost Transform
// swaps its characters. These tests fail when an Ink upgrade changes that, instead of the dashboard
// silently losing the optimisation (or drawing stand-ins).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Box, Text, Transform } from 'ink';
import { render } from 'ink-testing-library';
import { sparklineBlocks } from '../format.js';
import { blockStandIns, Glyphs, mark } from './Glyphs.js';

test('Ink lays a text out before an outermost Transform changes it (what Glyphs relies on)', () => {
	// '~' is one column, '日' two: laid out on the stand-ins, the '|' after them lands at column 2 and
	// overwrites the second wide character; laid out on the glyphs, it would stand at column 4.
	const ui = render(
		<Box>
			<Transform transform={(line) => line.replace(/~/g, '日')}>
				<Text>~~</Text>
			</Transform>
			<Text>|</Text>
		</Box>,
	);
	const frame = ui.lastFrame() ?? '';
	ui.unmount();
	assert.notEqual(frame, '日日|', 'Ink now measures the output of an outermost Transform: Glyphs (source/ui/components/Glyphs.tsx) no longer spares it the slow path; remove the stand-ins');
	assert.match(frame, /^日\|/, `unexpected frame ${JSON.stringify(frame)}`);
});

test('Glyphs draws every stand-in as its glyph, one column each', () => {
	const standIns = `${mark.rule.repeat(3)}${mark.dot}${mark.bar}${mark.pointer}${mark.down}${mark.ellipsis}${blockStandIns}`;
	const ui = render(
		<Box>
			<Glyphs>{standIns}</Glyphs>
			<Text>end</Text>
		</Box>,
	);
	const frame = ui.lastFrame() ?? '';
	ui.unmount();
	assert.equal(frame, `───·│›↓…${sparklineBlocks}end`);
});
