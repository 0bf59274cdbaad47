// A terminal screen as `tmux capture-pane -e -p` prints it (text with SGR escape sequences) → an SVG of
// monospace text: one <text> per row, one <tspan> per run of cells in one style, placed by column, and a
// <rect> under each run with a background. The docs' pictures are made with it from real runs
// (scripts/docs/screenshots.ts), never drawn by hand. Only SGR is understood; any other escape sequence
// is dropped (capture-pane prints none).
import stringWidth from 'string-width';

export interface SvgOptions {
	/** columns and rows of the terminal: the picture's size, whatever the text holds */
	columns: number;
	rows: number;
	/** a title for screen readers (<title>) */
	title?: string;
}

interface Style {
	fg: string | null;
	bg: string | null;
	bold: boolean;
	dim: boolean;
	italic: boolean;
	underline: boolean;
	inverse: boolean;
}

interface Cell {
	text: string;
	/** 1, or 2 for a wide character (CJK, most emoji) */
	width: number;
	style: Style;
}

const plain: Style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };

/** The terminal's default colours and its 16 colours (xterm's, a little softened). */
export const theme = {
	background: '#1e1e1e',
	foreground: '#d4d4d4',
	palette: ['#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5', '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff'],
};

const cellWidth = 8.4;
const lineHeight = 17;
const fontSize = 14;
const padding = 10;

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** xterm's 256 colours: the 16, a 6×6×6 cube, 24 greys. */
export function color256(n: number): string {
	if (n < 16) return theme.palette[n]!;
	if (n < 232) {
		const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
		const i = n - 16;
		return `#${hex(level(Math.floor(i / 36)))}${hex(level(Math.floor(i / 6) % 6))}${hex(level(i % 6))}`;
	}
	const grey = 8 + (n - 232) * 10;
	return `#${hex(grey)}${hex(grey)}${hex(grey)}`;
}

/** The style after one SGR sequence's parameters (`1;38;5;196`). */
export function applySgr(style: Style, params: string): Style {
	const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
	let s = { ...style };
	for (let i = 0; i < codes.length; i++) {
		const code = codes[i]!;
		if (code === 0) s = { ...plain };
		else if (code === 1) s.bold = true;
		else if (code === 2) s.dim = true;
		else if (code === 3) s.italic = true;
		else if (code === 4) s.underline = true;
		else if (code === 7) s.inverse = true;
		else if (code === 22) s = { ...s, bold: false, dim: false };
		else if (code === 23) s.italic = false;
		else if (code === 24) s.underline = false;
		else if (code === 27) s.inverse = false;
		else if (code >= 30 && code <= 37) s.fg = theme.palette[code - 30]!;
		else if (code >= 90 && code <= 97) s.fg = theme.palette[code - 90 + 8]!;
		else if (code >= 40 && code <= 47) s.bg = theme.palette[code - 40]!;
		else if (code >= 100 && code <= 107) s.bg = theme.palette[code - 100 + 8]!;
		else if (code === 39) s.fg = null;
		else if (code === 49) s.bg = null;
		else if (code === 38 || code === 48) {
			const mode = codes[i + 1];
			let value: string | null = null;
			if (mode === 5) {
				value = color256(codes[i + 2] ?? 0);
				i += 2;
			} else if (mode === 2) {
				value = `#${hex(codes[i + 2] ?? 0)}${hex(codes[i + 3] ?? 0)}${hex(codes[i + 4] ?? 0)}`;
				i += 4;
			}
			if (code === 38) s.fg = value;
			else s.bg = value;
		}
	}
	return s;
}

/** One row of the screen as cells, each with its style. */
export function parseRow(line: string): Cell[] {
	const cells: Cell[] = [];
	let style = plain;
	let i = 0;
	while (i < line.length) {
		if (line[i] === '\x1b') {
			const sgr = /^\x1b\[([0-9;:]*)m/.exec(line.slice(i));
			if (sgr) {
				style = applySgr(style, sgr[1]!);
				i += sgr[0].length;
				continue;
			}
			// another sequence: CSI … final byte, or ESC and one character
			const other = /^\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)/.exec(line.slice(i));
			i += other ? other[0].length : 1;
			continue;
		}
		const char = String.fromCodePoint(line.codePointAt(i)!);
		i += char.length;
		const width = stringWidth(char);
		if (width === 0) {
			// a combining mark or joiner belongs to the character before it
			if (cells.length > 0) cells[cells.length - 1]!.text += char;
			continue;
		}
		cells.push({ text: char, width, style });
	}
	return cells;
}

export function escapeXml(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const sameStyle = (a: Style, b: Style) => a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.dim === b.dim && a.italic === b.italic && a.underline === b.underline && a.inverse === b.inverse;

/** The colours a style is drawn with, reverse video applied. */
function colors(style: Style): { fg: string; bg: string | null } {
	const fg = style.fg ?? theme.foreground;
	if (!style.inverse) return { fg, bg: style.bg };
	return { fg: style.bg ?? theme.background, bg: fg };
}

/** The SVG of a captured screen. */
export function ansiToSvg(screen: string, options: SvgOptions): string {
	const rows = screen.replace(/\n$/, '').split('\n').slice(0, options.rows);
	const width = Math.ceil(options.columns * cellWidth + 2 * padding);
	const height = options.rows * lineHeight + 2 * padding;
	const out: string[] = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" xml:space="preserve">`,
		...(options.title ? [`<title>${escapeXml(options.title)}</title>`] : []),
		'<style>text{font-family:"DejaVu Sans Mono","Menlo","Consolas","Liberation Mono",monospace;font-size:' + fontSize + 'px;white-space:pre}</style>',
		`<rect width="100%" height="100%" rx="6" fill="${theme.background}"/>`,
	];
	rows.forEach((line, row) => {
		const baseline = padding + row * lineHeight + fontSize;
		const top = padding + row * lineHeight;
		// runs: cells of one style, broken at wide characters so each is placed on its own column
		const runs: Array<{ column: number; columns: number; text: string; style: Style; wide: boolean }> = [];
		let column = 0;
		for (const cell of parseRow(line)) {
			const last = runs.at(-1);
			const wide = cell.width === 2;
			if (last && !wide && !last.wide && sameStyle(last.style, cell.style)) {
				last.text += cell.text;
				last.columns += 1;
			} else {
				runs.push({ column, columns: cell.width, text: cell.text, style: cell.style, wide });
			}
			column += cell.width;
		}
		const spans: string[] = [];
		for (const run of runs) {
			const text = run.text;
			const { fg, bg } = colors(run.style);
			const x = (padding + run.column * cellWidth).toFixed(1);
			if (bg) out.push(`<rect x="${x}" y="${top}" width="${(run.columns * cellWidth).toFixed(1)}" height="${lineHeight}" fill="${bg}"/>`);
			if (text.trim() === '') continue;
			// textLength pins the run to its columns whatever the viewer's monospace font measures
			const attributes = [`x="${x}"`, `textLength="${(run.columns * cellWidth).toFixed(1)}"`];
			if (fg !== theme.foreground) attributes.push(`fill="${fg}"`);
			if (run.style.bold) attributes.push('font-weight="bold"');
			if (run.style.dim) attributes.push('opacity="0.6"');
			if (run.style.italic) attributes.push('font-style="italic"');
			if (run.style.underline) attributes.push('text-decoration="underline"');
			spans.push(`<tspan ${attributes.join(' ')}>${escapeXml(text)}</tspan>`);
		}
		if (spans.length > 0) out.push(`<text y="${baseline}" fill="${theme.foreground}">${spans.join('')}</text>`);
	});
	out.push('</svg>');
	return `${out.join('\n')}\n`;
}
