import { isIP } from 'node:net';
import type { SandboxNetworkPolicy } from '../contract.js';

/**
 * agentRunner.sandbox.network as one string, the spelling of STIGMER_SANDBOX_NETWORK and of the runner's
 * per-execution policy (agent-runner/stigmer_agent_runner/netrules.py reads the same): `none`, `internet`,
 * or `allow:ENTRY,ENTRY` with an ENTRY `HOST`, `IP` or `CIDR`, each with an optional `:PORT`
 * (`[IPv6]:PORT`, `[CIDR6]:PORT`).
 */
export const allowEntryForms = ['host.example', 'host.example:443', '203.0.113.7', '203.0.113.7:443', '10.0.0.0/8', '10.0.0.0/8:5432', '[2001:db8::1]:443'];

/** Why `entry` is not an allow-list entry (null when it is one). */
export function allowEntryProblem(entry: string): string | null {
	const forms = `write one of ${allowEntryForms.join(', ')}`;
	if (!entry || /[\s,]/.test(entry)) return `${JSON.stringify(entry)} is empty or holds a space or a comma; ${forms}`;
	let host = entry;
	let port: string | null = null;
	const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
	if (entry.startsWith('[')) {
		if (!bracketed) return `${JSON.stringify(entry)}: write an IPv6 address with a port as [2001:db8::1]:443`;
		host = bracketed[1]!;
		port = bracketed[2] ?? null;
	} else if (entry.split(':').length === 2) {
		[host, port] = entry.split(':') as [string, string];
	}
	if (port !== null && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return `${JSON.stringify(entry)}: the port ${JSON.stringify(port)} is not a number from 1 to 65535`;
	const [address, prefix, extra] = host.split('/');
	if (isIP(address ?? '')) {
		const bits = isIP(address!) === 4 ? 32 : 128;
		if (extra === undefined && (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= bits))) return null;
		return `${JSON.stringify(entry)}: ${JSON.stringify(host)} is neither an address, a CIDR nor a host name`;
	}
	if (host.includes('/') || host.includes(':')) return `${JSON.stringify(entry)}: ${JSON.stringify(host)} is neither an address, a CIDR nor a host name`;
	const labels = host.replace(/\.$/, '').split('.');
	if (!labels.every((l) => /^[A-Za-z0-9_-]{1,63}$/.test(l))) return `${JSON.stringify(entry)}: ${JSON.stringify(host)} is not a host name; ${forms}`;
	return null;
}

/** The entries of an `allow:` policy ([] for none and internet). */
export function allowEntries(policy: SandboxNetworkPolicy): string[] {
	return policy.startsWith('allow:') ? policy.slice('allow:'.length).split(',') : [];
}

/** What `policy` lets commands reach, in a line (doctor). */
export function describeNetworkPolicy(policy: SandboxNetworkPolicy): string {
	if (policy === 'none') return 'none: commands open no network connection (unix sockets only)';
	if (policy === 'internet') return "internet: commands reach public addresses only (not the host, the LAN, link-local or the runner); DNS to the container's nameservers";
	return `allow: commands reach only ${allowEntries(policy).join(', ')} (and DNS to the container's nameservers)`;
}
