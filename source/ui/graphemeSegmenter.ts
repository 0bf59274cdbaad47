// Intl.Segmenter as the dashboard's bundle sees it (scripts/bundleDashboard.mjs puts this class in place
// of every `Intl.Segmenter` in Ink and its string-width, slice-ansi and wrap-ansi): the first
// Intl.Segmenter a process constructs initialises ICU's break iterators, 2.7 MB of RSS in a bare Node 24
// (1.5 MB malloc'd, 1.2 MB of the binary's pages), and Ink's modules construct seven at load. Most text
// the dashboard measures is ASCII, box drawing, arrows and punctuation, where each code point is a
// grapheme of its own; ICU is asked (and loaded) only for a string with anything else.

/**
 * Code points that are each a grapheme cluster of their own whatever surrounds them (Unicode UAX #29):
 * none is Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator or Hangul, and the only control left
 * out is CR (CR LF is one cluster; every other control stands alone, as ESC of the colour codes).
 * ASCII, Latin-1 to IPA and spacing modifiers without the soft hyphen, the general punctuation before
 * the line and paragraph separators and after them up to the invisible operators, arrows through
 * dingbats (box drawing, blocks, geometric shapes, ✔, ✖), braille (spinners) and the Han ideographs.
 */
const ownClusters = /^[\x00-\x0c\x0e-\x7e\x80-\xac\xae-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u27bf\u2800-\u28ff\u3400-\u4dbf\u4e00-\u9fff]*$/;

/** ICU's, spelled so that the bundle's substitution of `Intl.Segmenter` leaves it alone. */
const IcuSegmenter = globalThis.Intl.Segmenter;

interface Segment {
	segment: string;
	index: number;
	input: string;
}

/** The segments of a string of ownClusters: one per code point (a supplementary one is never among them). */
class OwnClusterSegments {
	constructor(private readonly input: string) {}

	*[Symbol.iterator](): IterableIterator<Segment> {
		for (let index = 0; index < this.input.length; index++) yield { segment: this.input[index]!, index, input: this.input };
	}

	containing(index = 0): Segment | undefined {
		const at = Math.trunc(Number(index) || 0);
		return at >= 0 && at < this.input.length ? { segment: this.input[at]!, index: at, input: this.input } : undefined;
	}
}

export class GraphemeSegmenter {
	private icu: Intl.Segmenter | null = null;
	private readonly graphemes: boolean;

	constructor(
		private readonly locales?: Intl.LocalesArgument,
		private readonly options?: Intl.SegmenterOptions,
	) {
		this.graphemes = (options?.granularity ?? 'grapheme') === 'grapheme';
	}

	segment(input: string): Intl.Segments | OwnClusterSegments {
		const text = String(input);
		if (this.graphemes && ownClusters.test(text)) return new OwnClusterSegments(text);
		return this.intl().segment(text);
	}

	resolvedOptions(): Intl.ResolvedSegmenterOptions {
		return this.intl().resolvedOptions();
	}

	private intl(): Intl.Segmenter {
		this.icu ??= new IcuSegmenter(this.locales, this.options);
		return this.icu;
	}
}
