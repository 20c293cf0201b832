// prettier (with @prettier/plugin-xml) for JS, XML, SCSS, JSON and YAML; run by `make lint`.
// A .cjs file: require.resolve finds the plugin where pre-commit installed it (NODE_PATH).
/** @type {import("prettier").Config} */
module.exports = {
    plugins: [require.resolve("@prettier/plugin-xml")],
    // As Odoo's own JS: 4 spaces, double quotes, semicolons, 100 columns.
    printWidth: 100,
    tabWidth: 4,
    semi: true,
    singleQuote: false,
    bracketSpacing: true,
    trailingComma: "es5",
    arrowParens: "always",
    endOfLine: "lf",
    // Keep text nodes as written: QWeb and OWL text is what users read and what Odoo
    // extracts as translatable terms, whitespace included.
    xmlWhitespaceSensitivity: "preserve",
    xmlSelfClosingSpace: true,
    overrides: [
        {
            files: ["*.yaml", "*.yml"],
            options: { tabWidth: 4 },
        },
    ],
};
