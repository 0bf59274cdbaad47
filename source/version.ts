import { readFileSync } from 'node:fs';

// package.json sits one level above both source/ (tsx) and dist/ (compiled).
export const packageRoot = new URL('..', import.meta.url).pathname;
export const packageVersion: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
