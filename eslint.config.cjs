// eslint 9 flat config for the addon's ES modules (Odoo 18: every static/src file is a module).
// A .cjs file: require() finds the packages where pre-commit installed them (NODE_PATH).
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
    js.configs.recommended,
    {
        files: ["static/**/*.js"],
        languageOptions: {
            ecmaVersion: 2024,
            sourceType: "module",
            globals: {
                ...globals.browser,
                // Globals Odoo's asset bundles define.
                odoo: "readonly",
                owl: "readonly",
                luxon: "readonly",
                Chart: "readonly",
                $: "readonly",
                jQuery: "readonly",
            },
        },
        rules: {
            "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
            "no-console": ["error", { allow: ["warn", "error"] }],
            eqeqeq: ["error", "smart"],
            "no-var": "error",
            "prefer-const": "error",
            "no-eval": "error",
            "no-implied-eval": "error",
            "no-alert": "error",
            "no-debugger": "error",
            curly: "error",
        },
    },
    {
        files: ["**/*.cjs"],
        languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
    },
];
