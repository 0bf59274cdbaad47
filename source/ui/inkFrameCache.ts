// Ink (8) turns every text it draws into styled characters on every frame: an ANSI tokenizer that walks
// the text grapheme by grapheme with Intl.Segmenter, then a width per character. Its cache for that
// lives for one frame (one Output object per frame). Nearly every text of a dashboard frame was on the
// previous frame too (the log pane is most of the screen), so re-tokenizing them was a third of a frame,
// the frame an idle stack pays every 2 s. This keeps Ink's results for the texts of the last two frames:
// a frame that draws a text drawn one frame before gets its styled characters back instead of making
// them again. Two frames of texts is all it holds (a few hundred strings). Ink only reads these arrays
// (it copies cells from them into the frame), so sharing them between frames is safe.
//
// While lines scroll past (a log flood, ten frames a second) a frame finds almost nothing of the one
// before, and keeping its texts would only have them survive into V8's old generation: then a frame's
// texts are kept only when the frame before found at least half of its own, and on every 8th frame, to
// notice when the screen is still again.
//
// Ink exports only its index, so its Output class is reached by file (inkPrivate.ts), and the two
// methods of its per-frame cache are wrapped. If Ink's shape is not the one this was written for (another
// version), nothing is changed: the dashboard is as correct, only slower, and a test pins that it
// applies to the Ink we ship.
import { inkOutputModule } from './inkPrivate.js';

type CacheMethod<T> = (this: object, text: string) => T;

interface FrameCachePrototype {
	getStyledChars: CacheMethod<unknown>;
	getStringWidth: CacheMethod<number>;
}

let installed: Promise<boolean> | null = null;
let hits = 0;

/** Texts answered from the previous frame's results since start (tests). */
export const inkFrameCacheHits = () => hits;

/** Installs the cache once; true when Ink had the expected shape. */
export function installInkFrameCache(): Promise<boolean> {
	installed ??= install().catch(() => false);
	return installed;
}

async function install(): Promise<boolean> {
	const Output = (await inkOutputModule()).default as new (options: { width: number; height: number }) => { caches?: object };
	const caches = typeof Output === 'function' ? new Output({ width: 1, height: 1 }).caches : undefined;
	const prototype = caches ? (Object.getPrototypeOf(caches) as Partial<FrameCachePrototype>) : undefined;
	if (!prototype || typeof prototype.getStyledChars !== 'function' || typeof prototype.getStringWidth !== 'function') return false;
	prototype.getStyledChars = acrossFrames(plainAsciiFirst(prototype.getStyledChars));
	prototype.getStringWidth = acrossFrames(prototype.getStringWidth);
	return true;
}

// A text of printable ASCII alone (most log lines: a colour arrives as escapes, so a coloured text is
// not one) is one styled character per character, each unstyled: Ink's tokenizer would find exactly
// that, walking it grapheme by grapheme. Those characters are made once and shared (Ink never changes
// a cell: it copies or replaces them), so a flood's new lines cost an array of references each.
const plainAscii = /^[\x20-\x7e]*$/;
const unstyled = Object.freeze([]) as readonly unknown[];
const asciiChars = Array.from({ length: 0x7f - 0x20 }, (_, i) => Object.freeze({ type: 'char', value: String.fromCharCode(0x20 + i), fullWidth: false, styles: unstyled }));

/** Ink's getStyledChars, with printable ASCII texts answered without its tokenizer. */
export function plainAsciiFirst(compute: CacheMethod<unknown>): CacheMethod<unknown> {
	return function (this: object, text: string) {
		if (!plainAscii.test(text)) return compute.call(this, text);
		const chars = new Array(text.length);
		for (let i = 0; i < text.length; i++) chars[i] = asciiChars[text.charCodeAt(i) - 0x20];
		return chars;
	};
}

/** A per-frame cache method that also answers from the previous frame's results. */
function acrossFrames<T>(compute: CacheMethod<T>): CacheMethod<T> {
	let frame: object | null = null;
	let frames = 0;
	let current = new Map<string, T>();
	let previous = new Map<string, T>();
	let keeping = true;
	let asked = 0;
	let found = 0;
	return function (this: object, text: string): T {
		if (this !== frame) {
			// a new Output: a new frame
			frame = this;
			keeping = found * 2 >= asked || ++frames % 8 === 0;
			asked = found = 0;
			previous = current;
			current = new Map();
		}
		let value = current.get(text);
		if (value === undefined) {
			asked++;
			value = previous.get(text);
			if (value === undefined) {
				value = compute.call(this, text);
			} else {
				found++;
				hits++;
			}
			if (keeping) current.set(text, value);
		}
		return value;
	};
}
