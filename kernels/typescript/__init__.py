"""The TypeScript wrapper kernel: the JavaScript kernel with cells transpiled by the typescript package."""
