// Text measured in terminal cells, not code points: a CJK character or an emoji takes two cells, a ZWJ
// sequence (👨‍👩‍👦) is one grapheme of two cells, a combining mark none. Lines are cut only between
// graphemes (Intl.Segmenter) and each grapheme is measured by string-width, the measure Ink itself
// renders with, so what is cut here is exactly what fits on screen, and nothing is lost or repeated.
import stringWidth from 'string-width';

const printableAscii = /^[\x20-\x7e]*$/;
const segmenter = new Intl.Segmenter();

/** The cells `text` takes on a terminal. */
export function cellWidth(text: string): number {
	return printableAscii.test(text) ? text.length : stringWidth(text);
}

/**
 * Splits `line` into rows of at most `width` cells, at grapheme boundaries; the rows joined give the line
 * back. A grapheme wider than the pane (a wide character in a one-cell pane) gets a row of its own.
 */
export function wrapCells(line: string, width: number): string[] {
	if (width <= 0) return [line];
	if (printableAscii.test(line)) {
		if (line.length <= width) return [line];
		const rows: string[] = [];
		for (let i = 0; i < line.length; i += width) rows.push(line.slice(i, i + width));
		return rows;
	}
	const rows: string[] = [];
	let row = '';
	let used = 0;
	for (const { segment } of segmenter.segment(line)) {
		const cells = stringWidth(segment);
		if (used + cells > width && row !== '') {
			rows.push(row);
			row = '';
			used = 0;
		}
		row += segment;
		used += cells;
	}
	rows.push(row);
	return rows;
}

/** The longest start of `text` that fits in `width` cells, cut at a grapheme boundary. */
export function truncateCells(text: string, width: number): string {
	if (width <= 0) return '';
	if (printableAscii.test(text)) return text.length <= width ? text : text.slice(0, width);
	let out = '';
	let used = 0;
	for (const { segment } of segmenter.segment(text)) {
		const cells = stringWidth(segment);
		if (used + cells > width) break;
		out += segment;
		used += cells;
	}
	return out;
}
