// Parses an AsyncAPI document with @asyncapi/parser (the parser behind the AsyncAPI CLI's
// `validate`) and fails on any diagnostic of severity "error": an unresolved $ref, a schema
// the specification does not allow. Warnings and hints are printed, not fatal.
import { Parser, fromFile } from '@asyncapi/parser';

const path = process.argv[2];
if (!path) {
  console.error('usage: node validate.mjs <asyncapi.yaml>');
  process.exit(2);
}
const { document, diagnostics } = await fromFile(new Parser(), path).parse();
const levels = ['error', 'warning', 'info', 'hint'];
for (const diagnostic of diagnostics) {
  const where = diagnostic.path.join('/') || '(document)';
  console.log(`${levels[diagnostic.severity]} ${diagnostic.code} ${where}: ${diagnostic.message}`);
}
const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0).length;
if (!document || errors) {
  console.error(`${path}: ${errors} error(s); the document does not parse`);
  process.exit(1);
}
console.log(`${path}: valid AsyncAPI ${document.version()}`);
