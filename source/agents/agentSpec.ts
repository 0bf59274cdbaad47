// The agent spec of product.md ("Agent spec"), read from a YAML or JSON file by `stigmer run`.
// JSON is parsed by the YAML parser too, so both report the file, the line and the field at fault.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { UsageError, errorMessage } from '../errors.js';

export const agentToolNames = ['list_files', 'read_file', 'write_file', 'run_command'] as const;
export type AgentToolName = (typeof agentToolNames)[number];

/** The `agent` object of `POST /v1/executions`. */
export interface AgentSpec {
	name: string;
	instructions: string;
	model?: string;
	tools?: AgentToolName[];
	max_steps?: number;
}

const fields = ['name', 'instructions', 'model', 'tools', 'max_steps'] as const;

export class AgentSpecError extends UsageError {
	constructor(
		readonly file: string,
		readonly line: number | undefined,
		readonly field: string,
		problem: string,
	) {
		super(`${file}${line ? `:${line}` : ''}: ${field}: ${problem}`, 'an agent spec has name, instructions and optional model, tools, max_steps (see README, "Agents")');
		this.name = 'AgentSpecError';
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

/** Parses and validates spec text; `file` names the source in errors. */
export function parseAgentSpec(text: string, file: string): AgentSpec {
	const lines = new LineCounter();
	const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
	if (doc.errors.length > 0) {
		const first = doc.errors[0]!;
		throw new AgentSpecError(file, first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line, '(syntax)', first.message.split('\n')[0] ?? 'invalid YAML');
	}
	const lineOf = (node: Node | null | undefined): number | undefined => (node?.range ? lines.linePos(node.range[0]).line : undefined);
	const fail = (node: Node | null | undefined, field: string, problem: string): never => {
		throw new AgentSpecError(file, lineOf(node), field, problem);
	};

	const root = doc.contents;
	if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) fail(null, '(document)', 'the file is empty; an agent needs at least name and instructions');
	if (!isMap(root)) fail(root, '(document)', 'must be a mapping of fields (name, instructions, …)');
	const map = root as YAMLMap<Node, Node | null>;

	const found = new Map<string, { key: Node; value: Node | null }>();
	for (const pair of map.items) {
		const key = pair.key;
		const name = isScalar(key) ? String(key.value) : null;
		if (name === null || !(fields as readonly string[]).includes(name)) {
			fail(key, name ?? '(key)', `unknown field; known fields: ${fields.join(', ')}`);
		}
		found.set(name!, { key: key!, value: pair.value ?? null });
	}

	const string = (field: string, required: boolean): string | undefined => {
		const entry = found.get(field);
		if (!entry) {
			if (required) fail(map, field, 'is required');
			return undefined;
		}
		const { key, value } = entry;
		if (!isScalar(value) || value.value === null || value.value === undefined) fail(value ?? key, field, required ? 'is required and must be a string' : 'must be a string');
		const scalar = (value as Scalar).value;
		if (typeof scalar !== 'string') fail(value, field, `must be a string, not ${typeof scalar === 'number' ? 'a number' : typeof scalar === 'boolean' ? 'a boolean' : typeof scalar}`);
		if ((scalar as string).trim() === '') fail(value, field, 'must not be empty');
		return scalar as string;
	};

	const spec: AgentSpec = { name: string('name', true)!, instructions: string('instructions', true)! };
	const model = string('model', false);
	if (model !== undefined) spec.model = model;

	const tools = found.get('tools');
	if (tools) {
		const { key, value } = tools;
		if (!isSeq(value)) fail(value ?? key, 'tools', `must be a list of tool names (${agentToolNames.join(', ')})`);
		const list: AgentToolName[] = [];
		for (const item of (value as YAMLSeq<Node>).items) {
			const name = isScalar(item) ? item.value : undefined;
			if (typeof name !== 'string' || !(agentToolNames as readonly string[]).includes(name)) {
				fail(item, 'tools', `unknown tool ${JSON.stringify(name ?? null)}; known tools: ${agentToolNames.join(', ')}`);
			}
			if (list.includes(name as AgentToolName)) fail(item, 'tools', `${name} is listed twice`);
			list.push(name as AgentToolName);
		}
		spec.tools = list;
	}

	const steps = found.get('max_steps');
	if (steps) {
		const { key, value } = steps;
		const n = isScalar(value) ? value.value : undefined;
		if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) fail(value ?? key, 'max_steps', 'must be a positive integer');
		spec.max_steps = n as number;
	}
	return spec;
}
