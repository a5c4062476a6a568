import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT, type K8sObject } from './manifests';

// The OpenAPI schemas leave objects open (a misspelt field validates and the API server
// drops or refuses it at apply time), but kubernetes-models' TypeScript interfaces are
// closed: written as object literals of those types, every field TypeScript does not know
// is an "excess property" error. One in-memory program type-checks all objects at once.

/** The interface for an object: kubernetes-models/<group path>/<Kind>'s I<Kind>. */
function modulePath(o: K8sObject): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
}

// Parsed declaration files, shared by every program this test process builds.
const sourceFiles = new Map<string, ts.SourceFile | undefined>();

/** One problem text per object id that has any ("Kind/name: message"). */
export function unknownFieldProblems(objects: readonly K8sObject[]): string[] {
  const file = path.join(REPO_ROOT, 'deploy/test/.rendered-objects.ts');
  const lines = objects.map((o, i) => `import type { I${o.kind} as T${i} } from '${modulePath(o)}';`);
  objects.forEach((o, i) => lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`));
  const text = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    // kubernetes-models' types are reached through package "exports" (see tsconfig.json).
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    lib: ['lib.es5.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => f === file || fileExists(f);
  host.readFile = (f) => (f === file ? text : readFile(f));
  host.getSourceFile = (f, lang, ...rest) => {
    if (f === file) return ts.createSourceFile(f, text, lang);
    if (!sourceFiles.has(f)) sourceFiles.set(f, getSourceFile(f, lang, ...rest));
    return sourceFiles.get(f);
  };
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const line = d.start === undefined ? -1 : source.getLineAndCharacterOfPosition(d.start).line;
    const index = line - objects.length; // the declarations follow the imports
    const o = objects[index];
    return `${o ? `${o.kind}/${o.metadata.name}` : '(imports)'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
