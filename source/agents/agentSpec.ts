// The agent spec of docs/contract.md ("Agent spec"), read from a YAML or JSON file by `stigmer run`.
// JSON is parsed by the YAML parser too, so both report the file, the line and the field at fault.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { type AgentSpec, type AgentToolName, agentToolNames } from '../api/executionTypes.js';
import { allowEntryProblem } from '../config/networkPolicy.js';
import type { SandboxNetworkPolicy } from '../contract.js';
import { UsageError, errorMessage } from '../errors.js';

// The spec's shape is the API's (api/ owns it; this module reads it from a file).
export { type AgentSpec, type AgentToolName, agentToolNames };

const fields = ['name', 'instructions', 'model', 'tools', 'max_steps', 'network'] as const;

/** One mistake in an agent spec, at a line of its file when the file has one there. */
export interface AgentSpecProblem {
	line: number | undefined;
	field: string;
	problem: string;
}

/**
 * Every mistake found in an agent spec, one line each (`file:line: field: problem`); `line` and `field`
 * are the first one's.
 */
export class AgentSpecError extends UsageError {
	readonly line: number | undefined;
	readonly field: string;

	constructor(
		readonly file: string,
		readonly problems: AgentSpecProblem[],
	) {
		super(
			problems.map((p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.field}: ${p.problem}`).join('\n'),
			'an agent spec has name, instructions and optional model, tools, max_steps, network (see README, "Agents")',
		);
		this.name = 'AgentSpecError';
		this.line = problems[0]?.line;
		this.field = problems[0]?.field ?? '(document)';
	}
}

export function readAgentSpec(file: string): AgentSpec {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') throw new UsageError(`agent file ${file} does not exist`);
		if (code === 'EISDIR') throw new UsageError(`agent file ${file} is a directory`);
		throw new UsageError(`cannot read agent file ${file}: ${errorMessage(error)}`);
	}
	return parseAgentSpec(text, file);
}

/** Parses and validates spec text; `file` names the source in errors, which list every problem found. */
export function parseAgentSpec(text: string, file: string): AgentSpec {
	const lines = new LineCounter();
	const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
	if (doc.errors.length > 0) {
		throw new AgentSpecError(
			file,
			doc.errors.map((error) => ({ line: error.linePos?.[0]?.line ?? lines.linePos(error.pos[0]).line, field: '(syntax)', problem: error.message.split('\n')[0] ?? 'invalid YAML' })),
		);
	}
	const lineOf = (node: Node | null | undefined): number | undefined => (node?.range ? lines.linePos(node.range[0]).line : undefined);
	const problems: AgentSpecProblem[] = [];
	const report = (node: Node | null | undefined, field: string, problem: string): void => {
		problems.push({ line: lineOf(node), field, problem });
	};

	const root = doc.contents;
	if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) {
		throw new AgentSpecError(file, [{ line: undefined, field: '(document)', problem: 'the file is empty; an agent needs at least name and instructions' }]);
	}
	if (!isMap(root)) throw new AgentSpecError(file, [{ line: lineOf(root), field: '(document)', problem: 'must be a mapping of fields (name, instructions, …)' }]);
	const map = root as YAMLMap<Node, Node | null>;

	const found = new Map<string, { key: Node; value: Node | null }>();
	for (const pair of map.items) {
		const key = pair.key;
		const name = isScalar(key) ? String(key.value) : null;
		if (name === null || !(fields as readonly string[]).includes(name)) {
			report(key, name ?? '(key)', `unknown field; known fields: ${fields.join(', ')}`);
			continue;
		}
		found.set(name, { key: key!, value: pair.value ?? null });
	}

	const string = (field: string, required: boolean): string | undefined => {
		const entry = found.get(field);
		if (!entry) {
			if (required) report(map, field, 'is required');
			return undefined;
		}
		const { key, value } = entry;
		if (!isScalar(value) || value.value === null || value.value === undefined) {
			report(value ?? key, field, required ? 'is required and must be a string' : 'must be a string');
			return undefined;
		}
		const scalar = (value as Scalar).value;
		if (typeof scalar !== 'string') {
			report(value, field, `must be a string, not ${typeof scalar === 'number' ? 'a number' : typeof scalar === 'boolean' ? 'a boolean' : typeof scalar}`);
			return undefined;
		}
		if (scalar.trim() === '') {
			report(value, field, 'must not be empty');
			return undefined;
		}
		return scalar;
	};

	const name = string('name', true);
	const instructions = string('instructions', true);
	const model = string('model', false);

	let tools: AgentToolName[] | undefined;
	const toolsEntry = found.get('tools');
	if (toolsEntry) {
		const { key, value } = toolsEntry;
		if (!isSeq(value)) report(value ?? key, 'tools', `must be a list of tool names (${agentToolNames.join(', ')})`);
		else {
			tools = [];
			for (const item of (value as YAMLSeq<Node>).items) {
				const tool = isScalar(item) ? item.value : undefined;
				if (typeof tool !== 'string' || !(agentToolNames as readonly string[]).includes(tool)) {
					report(item, 'tools', `unknown tool ${JSON.stringify(tool ?? null)}; known tools: ${agentToolNames.join(', ')}`);
				} else if (tools.includes(tool as AgentToolName)) report(item, 'tools', `${tool} is listed twice`);
				else tools.push(tool as AgentToolName);
			}
		}
	}

	let maxSteps: number | undefined;
	const steps = found.get('max_steps');
	if (steps) {
		const { key, value } = steps;
		const n = isScalar(value) ? value.value : undefined;
		if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) report(value ?? key, 'max_steps', 'must be a positive integer');
		else maxSteps = n;
	}

	// network: none, internet or { allow: [entries] }, as in config.yaml; the runner refuses one wider than its own
	let network: SandboxNetworkPolicy | undefined;
	const networkEntry = found.get('network');
	if (networkEntry) {
		const { key, value } = networkEntry;
		const allow = isMap(value) && value.items.length === 1 && isScalar(value.items[0]!.key) && value.items[0]!.key.value === 'allow' ? value.items[0]!.value : null;
		if (isScalar(value) && (value.value === 'none' || value.value === 'internet')) network = value.value;
		else if (isSeq(allow) && allow.items.length > 0) {
			const entries = allow.items.map((item) => (isScalar(item) ? String(item.value) : ''));
			const bad = entries.map((entry, i) => [allowEntryProblem(entry), allow.items[i]] as const).filter(([problem]) => problem);
			for (const [problem, item] of bad) report(item as Node, 'network', problem!);
			if (bad.length === 0) network = `allow:${entries.join(',')}`;
		} else report(value ?? key, 'network', 'must be none, internet or { allow: [ "host[:port]", "CIDR[:port]", "IP[:port]" ] } (an agent may narrow agentRunner.sandbox.network, never widen it)');
	}

	if (problems.length > 0) {
		problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
		throw new AgentSpecError(file, problems);
	}
	const spec: AgentSpec = { name: name!, instructions: instructions! };
	if (model !== undefined) spec.model = model;
	if (tools !== undefined) spec.tools = tools;
	if (maxSteps !== undefined) spec.max_steps = maxSteps;
	if (network !== undefined) spec.network = network;
	return spec;
}
