// One row per service: state, health, uptime, restarts, exit code (OOM), CPU, memory, network, PIDs and
// a minute of CPU/memory history. Columns that do not fit the terminal's width are left out, least
// important first, so the table reads at 80 columns and shows everything at 120.
import { Box, Text } from 'ink';
import InkSpinner from 'ink-spinner';
import { type ServiceStatus, isActive } from '../../serviceStatus.js';
import type { ActionInProgress, ServiceResources } from '../../store/dashboardState.js';
import { fit, formatBytes, formatPercent, formatUptime, sparkline } from '../format.js';
import { blockStandIns, Glyphs, mark } from './Glyphs.js';

interface Cell {
	text: string;
	color?: string;
	dim?: boolean;
}

interface Column {
	id: string;
	title: string;
	width: number;
	align: 'left' | 'right';
	/** lower is kept first when space is short */
	priority: number;
	cell(row: RowData): Cell;
}

interface RowData {
	service: ServiceStatus;
	resources: ServiceResources | undefined;
	action: ActionInProgress | undefined;
	nowMs: number;
}

const stateColors: Record<ServiceStatus['state'], string> = {
	running: 'green',
	starting: 'yellow',
	restarting: 'yellow',
	stopped: 'gray',
	exited: 'gray',
	failed: 'red',
	'not-installed': 'gray',
	unknown: 'yellow',
};

// rows are drawn through <Glyphs>: marks and sparklines are written as their stand-ins
const actionText: Record<ActionInProgress['kind'], string> = {
	start: `starting${mark.ellipsis}`,
	stop: `stopping${mark.ellipsis}`,
	restart: `restarting${mark.ellipsis}`,
};

const columns: Column[] = [
	{ id: 'name', title: 'SERVICE', width: 16, align: 'left', priority: 0, cell: ({ service }) => ({ text: service.name }) },
	{
		id: 'state',
		title: 'STATE',
		width: 13,
		align: 'left',
		priority: 0,
		cell: ({ service, action }) => {
			if (action) return { text: action.progress?.startsWith('building') ? `building${mark.ellipsis}` : actionText[action.kind], color: 'cyan' };
			const failedExit = service.state === 'exited' && service.exitCode != null && service.exitCode !== 0;
			return { text: service.state, color: failedExit ? 'red' : stateColors[service.state] };
		},
	},
	{
		id: 'health',
		title: 'HEALTH',
		width: 9,
		align: 'left',
		priority: 6,
		cell: ({ service }) => {
			const health = service.health ?? null;
			return { text: health ?? '-', color: health === 'healthy' ? 'green' : health === 'unhealthy' ? 'red' : health === 'starting' ? 'yellow' : 'gray' };
		},
	},
	{ id: 'uptime', title: 'UPTIME', width: 7, align: 'right', priority: 3, cell: ({ service, nowMs }) => ({ text: isActive(service.state) ? formatUptime(service.startedAt, nowMs) : '-' }) },
	{
		id: 'restarts',
		title: 'RST',
		width: 4,
		align: 'right',
		priority: 5,
		cell: ({ service }) => ({ text: service.restarts == null ? '-' : String(service.restarts), color: (service.restarts ?? 0) > 0 ? 'yellow' : undefined }),
	},
	{
		id: 'exit',
		title: 'EXIT',
		width: 8,
		align: 'right',
		priority: 4,
		cell: ({ service }) => {
			const oom = service.oomKilled ? ' OOM' : '';
			if (service.exitCode == null && !oom) return { text: '-', dim: true };
			return { text: `${service.exitCode ?? ''}${oom}`.trim(), color: service.oomKilled || (service.exitCode ?? 0) !== 0 ? 'red' : undefined };
		},
	},
	{
		id: 'cpu',
		title: 'CPU',
		width: 7,
		align: 'right',
		priority: 1,
		cell: ({ resources, service }) => ({ text: isActive(service.state) && resources ? formatPercent(resources.latest.cpuPercent) : '-' }),
	},
	{
		id: 'mem',
		title: 'MEM/LIMIT',
		width: 11,
		align: 'right',
		priority: 2,
		cell: ({ resources, service }) => {
			if (!resources || !isActive(service.state)) return { text: '-' };
			const { memoryBytes, memoryLimitBytes } = resources.latest;
			const near = memoryLimitBytes ? memoryBytes / memoryLimitBytes > 0.9 : false;
			return { text: memoryLimitBytes ? `${formatBytes(memoryBytes)}/${formatBytes(memoryLimitBytes)}` : formatBytes(memoryBytes), color: near ? 'red' : undefined };
		},
	},
	{
		id: 'net',
		title: 'NET RX/TX',
		width: 11,
		align: 'right',
		priority: 8,
		cell: ({ resources, service }) => {
			const latest = resources?.latest;
			if (!latest || !isActive(service.state) || latest.networkRxBytes == null) return { text: '-' };
			return { text: `${formatBytes(latest.networkRxBytes)}/${formatBytes(latest.networkTxBytes)}` };
		},
	},
	{
		id: 'pids',
		title: 'PIDS',
		width: 5,
		align: 'right',
		priority: 7,
		cell: ({ resources, service }) => ({ text: resources && isActive(service.state) && resources.latest.pids != null ? String(resources.latest.pids) : '-' }),
	},
	{
		id: 'cpuHistory',
		title: 'CPU 60s',
		width: 12,
		align: 'left',
		priority: 6.5,
		cell: ({ resources }) => ({ text: sparkline(resources?.cpuHistory ?? [], 12, Math.max(5, ...(resources?.cpuHistory ?? [])), blockStandIns), color: 'cyan' }),
	},
	{
		id: 'memHistory',
		title: 'MEM 60s',
		width: 12,
		align: 'left',
		priority: 9,
		cell: ({ resources }) => ({ text: sparkline(resources?.memoryHistory ?? [], 12, resources?.latest.memoryLimitBytes ?? undefined, blockStandIns), color: 'magenta' }),
	},
];

const figureColumns = columns.filter((c) => ['cpu', 'mem', 'pids'].includes(c.id));
const totalColumns = columns.filter((c) => c.id === 'net');
const historyColumns = columns.filter((c) => ['cpuHistory', 'memHistory'].includes(c.id));

function shownCells(shown: Column[], service: ServiceStatus, resources: ServiceResources | undefined): string {
	const row: RowData = { service, resources, action: undefined, nowMs: 0 };
	return shown
		.map((c) => {
			const cell = c.cell(row);
			return `${cell.text}\u0000${cell.color ?? ''}`;
		})
		.join('\u0001');
}

/** What a row's stats figures show (CPU, memory, PIDs: texts and colours), its totals and sparklines apart. */
export function shownFigures(service: ServiceStatus, resources: ServiceResources | undefined): string {
	return shownCells(figureColumns, service, resources);
}

/** What a row's running totals show (network received/sent). */
export function shownTotals(service: ServiceStatus, resources: ServiceResources | undefined): string {
	return shownCells(totalColumns, service, resources);
}

/** What a row's two sparklines show. */
export function shownHistory(service: ServiceStatus, resources: ServiceResources | undefined): string {
	return shownCells(historyColumns, service, resources);
}

/** starting, stopping, restarting or building: an action runs, or the service itself is coming up. */
function inTransition({ service, action }: RowData): boolean {
	if (action) return true;
	return service.state === 'starting' || service.state === 'restarting';
}

const marker = 2;
const gap = 1;

/** The columns that fit `width`, in display order. */
export function tableColumns(width: number): Column[] {
	const chosen = new Set<Column>();
	let used = marker;
	for (const column of [...columns].sort((a, b) => a.priority - b.priority)) {
		const needed = column.width + (chosen.size > 0 ? gap : 0);
		if (used + needed > width) continue;
		chosen.add(column);
		used += needed;
	}
	return columns.filter((c) => chosen.has(c));
}

export interface ServicesTableProps {
	services: ServiceStatus[];
	resources: Record<string, ServiceResources>;
	actions: Record<string, ActionInProgress>;
	selected: string | null;
	width: number;
	nowMs: number;
}

export function ServicesTable({ services, resources, actions, selected, width, nowMs }: ServicesTableProps) {
	const shown = tableColumns(width);
	return (
		<Box flexDirection="column">
			<Text bold wrap="truncate">
				{' '.repeat(marker)}
				{shown.map((c, i) => `${i > 0 ? ' ' : ''}${fit(c.title, c.width, c.align)}`).join('')}
			</Text>
			{services.length === 0 ? <Text dimColor>{'  '}no services yet</Text> : null}
			{services.map((service) => {
				const isSelected = service.name === selected;
				const row: RowData = { service, resources: resources[service.name], action: actions[service.name], nowMs };
				return (
					<Glyphs key={service.name} inverse={isSelected}>
						{isSelected ? `${mark.pointer} ` : '  '}
						{shown.map((column, i) => {
							const cell = column.cell(row);
							if (column.id === 'state' && inTransition(row)) {
								// ink-spinner, mounted only while the transition lasts: its timer ends with it (idle CPU unchanged).
								// A transition is one row for a second or two; the executions table, with up to a screenful
								// of running rows, shares one clock instead (Spinner.tsx says why)
								return (
									<Text key={column.id} color={cell.color}>
										{i > 0 ? ' ' : ''}
										<InkSpinner type="line" />
										{` ${fit(cell.text, column.width - 2, column.align, mark.ellipsis)}`}
									</Text>
								);
							}
							return (
								<Text key={column.id} color={cell.color} dimColor={cell.dim} bold={column.id === 'name' && isSelected}>
									{`${i > 0 ? ' ' : ''}${fit(cell.text, column.width, column.align, mark.ellipsis)}`}
								</Text>
							);
						})}
					</Glyphs>
				);
			})}
		</Box>
	);
}
