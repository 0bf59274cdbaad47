// Ink measures every text node on every frame with string-width, and one non-ASCII character sends the
// whole string down its slow path (grapheme segmentation, then emoji and Hangul regexes per character).
// The dashboard's rules, separators and sparklines made that about 45 % of a frame, the frame an idle
// stack pays every 2 s. All of them are one column wide, so components write ASCII stand-ins, Ink lays
// them out on the fast path, and <Glyphs> swaps the real characters in as the line is written out (an
// outermost Transform runs after measurement; a nested one would run before it).
//
// A stand-in must never be part of what a <Glyphs> node shows otherwise: they only hold our own words,
// figures and service names ([A-Za-z0-9._-]); engine versions, endpoints, filter text and log lines go
// in plain Text beside them. None of the stand-ins occurs in the colour codes Ink writes into the same
// line (ESC [ digits ; m).
import { Text, type TextProps, Transform } from 'ink';
import { sparklineBlocks } from '../format.js';

/** Stand-ins for the marks of the dashboard's chrome. */
export const mark = { rule: '~', dot: '^', bar: '|', pointer: '>', down: '`', ellipsis: '{' } as const;

/** Stand-ins for the eight sparkline levels, lowest first (▁ … █). */
export const blockStandIns = '!"#$&*+=';

const glyphs = new Map<string, string>([['~', '─'], ['^', '·'], ['|', '│'], ['>', '›'], ['`', '↓'], ['{', '…'], ...Array.from(blockStandIns, (c, i) => [c, sparklineBlocks[i]!] as [string, string])]);
const standIns = new RegExp(`[${[...glyphs.keys()].map((c) => `\\${c}`).join('')}]`, 'g');

const toGlyphs = (line: string) => line.replace(standIns, (c) => glyphs.get(c)!);

/** A Text whose stand-ins are drawn as glyphs; its width is its length. Nested Texts may colour parts of it. */
export function Glyphs({ children, ...text }: TextProps) {
	return (
		<Transform transform={toGlyphs}>
			<Text {...text}>{children}</Text>
		</Transform>
	);
}
