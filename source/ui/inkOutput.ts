// Ink (8) builds each frame's text in its Output class: a grid of one new object per cell (120×40: 4,800
// blank cells, each with its own styles array), every write's text cut into lines and joined back into
// strings, then every row of the grid turned into a string again. All of it again on every frame, though
// an idle frame changes a cell or two (a sparkline moving on) and a flood frame only the log pane.
// In the profile of an idle frame this was a quarter of the frame's CPU and most of its garbage (the
// garbage collector was a third of the frame).
//
// This replaces two of Output's methods with Ink's own code and three differences:
// - the blank cells are one frozen object (Ink never changes a cell: it replaces them);
// - a write's text, as lines, is kept for the next frame (a text drawn again is not split again);
// - a row whose cells are the very objects of the same row of the frame before (inkFrameCache keeps the
//   styled characters of the previous frame's texts, so an unchanged row is made of the same objects) is
//   not turned into a string again: the previous string is reused. Equal cells give an equal string, as
//   the string is made from the cells alone.
// Ink's other methods (clipping a line to columns, its caches) are called as they are. If Ink's Output
// is not the one this was written for (another version: its methods lack, or a sample frame drawn by
// both differs), Ink's own are kept: the dashboard is as correct, only slower. inkOutput.test.tsx
// compares every frame of the dashboard's fixture, and of a screen of clips and wide characters, with
// Ink's own drawing of it.
import { inkAnsiTokenizeModule, inkOutputModule } from './inkPrivate.js';

interface StyledChar {
	type: string;
	value: string;
	fullWidth: boolean;
	styles: readonly unknown[];
}
type Clip = { x1?: number; x2?: number; y1?: number; y2?: number };
type Operation = { type: 'clip'; clip: Clip } | { type: 'unclip' } | { type: 'write'; x: number; y: number; text: string; transformers: Array<(line: string, index: number) => string> };
interface Caches {
	getStyledChars(text: string): StyledChar[];
	getStringWidth(text: string): number;
	getWidestLine(text: string): number;
}
interface OutputInstance {
	width: number;
	height: number;
	operations: Operation[];
	caches: Caches;
	sliceLineToColumns(line: string, from: number, to: number): string;
	applyWriteOperation(output: StyledChar[][], operation: Operation, clip: Clip | undefined): void;
	get(): { output: string; height: number };
}
type OutputPrototype = Pick<OutputInstance, 'applyWriteOperation' | 'get'>;

let installed: Promise<boolean> | null = null;
let inkOwn: OutputPrototype | null = null;

/** Installs the faster Output once; true when Ink had the expected shape. */
export function installInkOutput(): Promise<boolean> {
	installed ??= install().catch(() => false);
	return installed;
}

/** Ink's own two methods, for the test that compares both (null before installInkOutput). */
export const inkOwnOutput = () => inkOwn;

async function install(): Promise<boolean> {
	const Output = (await inkOutputModule()).default as { prototype?: Partial<OutputPrototype> } | undefined;
	const { styledCharsToString } = (await inkAnsiTokenizeModule()) as { styledCharsToString?: (chars: readonly StyledChar[]) => string };
	const prototype = Output?.prototype;
	const probe =
		typeof Output === 'function' ? (new (Output as unknown as new (o: { width: number; height: number }) => Partial<OutputInstance>)({ width: 1, height: 1 }) as Partial<OutputInstance>) : null;
	if (
		!prototype ||
		!probe ||
		typeof styledCharsToString !== 'function' ||
		typeof prototype.get !== 'function' ||
		typeof prototype.applyWriteOperation !== 'function' ||
		typeof probe.sliceLineToColumns !== 'function' ||
		!Array.isArray(probe.operations) ||
		typeof probe.caches?.getStyledChars !== 'function' ||
		typeof probe.caches.getStringWidth !== 'function' ||
		typeof probe.caches.getWidestLine !== 'function'
	)
		return false;
	inkOwn = { get: prototype.get, applyWriteOperation: prototype.applyWriteOperation };
	const cellsToString = styledCharsToString;
	const lines = new TwoFrameCache<string[]>();
	const blank: StyledChar = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: Object.freeze([]) as readonly unknown[] });
	let previousRows: Array<{ cells: StyledChar[]; text: string }> = [];

	prototype.applyWriteOperation = function applyWriteOperation(this: OutputInstance, output, operation, clip) {
		if (operation.type !== 'write') return;
		const { text } = operation;
		let { x, y } = operation;
		let textLines = lines.get(text);
		if (!textLines) {
			// Ink: styled characters, split at explicit newlines (styles carried), each line a string again
			const characterLines: StyledChar[][] = [[]];
			for (const character of this.caches.getStyledChars(text)) {
				if (character.value === '\n') characterLines.push([]);
				else characterLines.at(-1)!.push(character);
			}
			textLines = characterLines.map((line) => cellsToString(line));
			lines.set(text, textLines);
		}
		let cut = textLines;
		if (clip) {
			if (isClipEmpty(clip)) return;
			const horizontal = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
			const vertical = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
			if (horizontal) {
				const width = this.caches.getWidestLine(text);
				if (x + width < clip.x1! || x > clip.x2!) return;
			}
			if (vertical && (y + cut.length < clip.y1! || y > clip.y2!)) return;
			if (horizontal) {
				cut = cut.map((line) => {
					const from = x < clip.x1! ? clip.x1! - x : 0;
					const width = this.caches.getStringWidth(line);
					const to = x + width > clip.x2! ? clip.x2! - x : width;
					return this.sliceLineToColumns(line, from, to);
				});
				if (x < clip.x1!) x = clip.x1!;
			}
			if (vertical) {
				const from = y < clip.y1! ? clip.y1! - y : 0;
				const to = y + cut.length > clip.y2! ? clip.y2! - y : cut.length;
				cut = cut.slice(from, to);
				if (y < clip.y1!) y = clip.y1!;
			}
		}
		writeCharacters(this, output, cut, x, y, operation);
	};

	prototype.get = function get(this: OutputInstance) {
		lines.nextFrame();
		const blankRow = new Array<StyledChar>(this.width).fill(blank);
		const output: StyledChar[][] = [];
		for (let y = 0; y < this.height; y++) output.push(blankRow.slice());
		const clips: Array<Clip | undefined> = [];
		for (const operation of this.operations) {
			if (operation.type === 'clip') clips.push(intersectClips(clips.at(-1), operation.clip));
			else if (operation.type === 'unclip') clips.pop();
			else this.applyWriteOperation(output, operation, clips.at(-1));
		}
		const rows = output.map((cells, y) => {
			const before = previousRows[y];
			if (before && sameCells(before.cells, cells)) return before;
			return { cells, text: cellsToString(cells.filter((cell) => cell !== undefined)).trimEnd() };
		});
		previousRows = rows;
		return { output: rows.map((row) => row.text).join('\n'), height: output.length };
	};
	// the methods copied are Ink 8's: if this Ink draws a sample frame otherwise, its own are put back
	if (drawsAsInk(Output as unknown as new (o: { width: number; height: number }) => OutputInstance, inkOwn)) return true;
	Object.assign(prototype, inkOwn);
	return false;
}

/** A frame of clipped, wide, multi-line and transformed texts, drawn by both: the same? */
function drawsAsInk(Output: new (o: { width: number; height: number }) => OutputInstance, own: OutputPrototype): boolean {
	try {
		const sample = () => {
			const output = new Output({ width: 12, height: 4 });
			const write = (x: number, y: number, text: string, transformers: Array<(line: string, index: number) => string> = []) => output.operations.push({ type: 'write', x, y, text, transformers });
			write(0, 0, '\u001b[36mcyan\u001b[39m and 日本語 beyond the edge');
			output.operations.push({ type: 'clip', clip: { x1: 2, x2: 9, y1: 1, y2: 3 } });
			write(0, 1, 'clipped 日本 text\nsecond line\nthird line', [(line, index) => `${index}${line}`]);
			output.operations.push({ type: 'unclip' });
			write(5, 3, '語x');
			return output;
		};
		const ours = sample().get();
		const reference = sample();
		return JSON.stringify(ours) === JSON.stringify(own.get.call(Object.assign(reference, own)));
	} catch {
		return false;
	}
}

/** The rest of Ink's applyWriteOperation: the (clipped) lines transformed and written into the grid, cell by cell. */
function writeCharacters(self: OutputInstance, output: StyledChar[][], lines: readonly string[], x: number, y: number, operation: Extract<Operation, { type: 'write' }>): void {
	const { caches } = self;
	for (let index = 0; index < lines.length; index++) {
		const currentLine = output[y + index];
		// lines above or below the output area have no row
		if (!currentLine) continue;
		let line = lines[index]!;
		for (const transformer of operation.transformers) line = transformer(line, index + y - operation.y);
		const characters = caches.getStyledChars(line);
		if (characters.length === 0) continue;
		let offsetX = x;
		// a write landing in the middle of a wide character blanks its leading cell (styles kept)
		if (currentLine[offsetX]?.value === '' && offsetX > 0 && caches.getStringWidth(currentLine[offsetX - 1]?.value ?? '') > 1) {
			currentLine[offsetX - 1] = blankCell(currentLine[offsetX - 1]!);
		}
		for (const character of characters) {
			currentLine[offsetX] = character;
			const characterWidth = Math.max(1, caches.getStringWidth(character.value));
			// a wide character's following cells: placeholders
			if (characterWidth > 1) {
				for (let offset = 1; offset < characterWidth; offset++) {
					currentLine[offsetX + offset] = { type: 'char', value: offsetX < 0 ? ' ' : '', fullWidth: false, styles: character.styles };
				}
			}
			offsetX += characterWidth;
		}
		if (currentLine[offsetX]?.value === '') currentLine[offsetX] = blankCell(currentLine[offsetX]!);
	}
}

const blankCell = (cell: StyledChar): StyledChar => ({ ...cell, value: ' ', fullWidth: false });

function sameCells(a: readonly StyledChar[], b: readonly StyledChar[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

const isClipEmpty = (clip: Clip) => (clip.x1 !== undefined && clip.x2 !== undefined && clip.x1 >= clip.x2) || (clip.y1 !== undefined && clip.y2 !== undefined && clip.y1 >= clip.y2);
const bound = (a: number | undefined, b: number | undefined, tighter: (a: number, b: number) => number) => (a === undefined ? b : b === undefined ? a : tighter(a, b));
const intersectClips = (outer: Clip | undefined, inner: Clip): Clip =>
	outer ? { x1: bound(outer.x1, inner.x1, Math.max), x2: bound(outer.x2, inner.x2, Math.min), y1: bound(outer.y1, inner.y1, Math.max), y2: bound(outer.y2, inner.y2, Math.min) } : inner;

/** Values of the texts of this frame and the one before. */
class TwoFrameCache<T> {
	private current = new Map<string, T>();
	private previous = new Map<string, T>();
	nextFrame(): void {
		this.previous = this.current;
		this.current = new Map();
	}
	get(text: string): T | undefined {
		const value = this.current.get(text) ?? this.previous.get(text);
		if (value !== undefined) this.current.set(text, value);
		return value;
	}
	set(text: string, value: T): void {
		this.current.set(text, value);
	}
}
