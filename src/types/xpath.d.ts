// xpath's own typings add `/// <reference lib="dom" />`, which would swap the Workers globals
// (Headers, Request, ...) for the browser's in every file. We only hand the module to xml-core
// (src/protocols/saml/xmldsig.ts) and never call it, so this is all we need of its types.
declare const xpath: { select: (expression: string, node: unknown) => unknown };
export default xpath;
