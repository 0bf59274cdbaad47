// Node's built-in modules that only some paths of a command use, loaded on their first use. A static
// import loads a module for every command, and `stigmer --help` and `server status` are timed
// (bench/cliStartup.ts): child_process is ≈5 ms of a start-up where /proc answers instead, node:crypto
// is wanted only to hash a checkout's sources or a context's TLS directory, node:http/https/tls only
// for an engine that is not a local socket. They are required, not imported: ESM's view of node:http
// reads every export, and its getters load undici.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const childProcess = (): typeof import('node:child_process') => require('node:child_process');
export const nodeCrypto = (): typeof import('node:crypto') => require('node:crypto');
export const nodeHttp = (): typeof import('node:http') => require('node:http');
export const nodeHttps = (): typeof import('node:https') => require('node:https');
export const nodeTls = (): typeof import('node:tls') => require('node:tls');
