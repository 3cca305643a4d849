// Checks Web Annotations against the third-party JSON Schema of the W3C model in the npm
// package validate-web-annotation (a test-only tool, see package.json). Reads a JSON array of
// annotations on stdin; prints a JSON array of booleans, one per annotation.
const validateAnnotation = require("validate-web-annotation");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
});
process.stdin.on("end", () => {
  const annotations = JSON.parse(input);
  process.stdout.write(JSON.stringify(annotations.map((a) => validateAnnotation(a) === true)));
});
