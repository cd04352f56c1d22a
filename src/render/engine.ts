/**
 * Embedded eta templates, one Eta instance per output language, and per-project overrides
 * (`templates/NAME.eta` in the working directory wins over the embedded one).
 */
import { Eta } from "eta/core";
import composeTemplate from "../../templates/compose.yaml.eta" with { type: "text" };
import clusterTestTemplate from "../../templates/cluster-test.compose.yaml.eta" with { type: "text" };
import rayEntrypointTemplate from "../../templates/ray-ep.sh.eta" with { type: "text" };
import { composeScalar, shellQuote } from "./escape.ts";

export type Language = "yaml" | "shell";

export const templates = {
  "compose.yaml": { text: composeTemplate, language: "yaml" },
  "cluster-test.compose.yaml": { text: clusterTestTemplate, language: "yaml" },
  "ray-ep.sh": { text: rayEntrypointTemplate, language: "shell" },
} as const satisfies Record<string, { text: string; language: Language }>;

export type TemplateName = keyof typeof templates;
export const templateNames = Object.keys(templates) as TemplateName[];

function createEta(language: Language): Eta {
  return new Eta({
    autoEscape: true,
    escapeFunction: language === "yaml" ? composeScalar : shellQuote,
    // eta's default autoTrim eats the newline after every tag, `<%= %>` included, which
    // glues YAML lines together. Trim nothing implicitly; control lines end in `-%>` to drop
    // their own newline. (rmWhitespace stays off: it would break indentation.)
    autoTrim: false,
    cache: false,
    useWith: false,
  });
}

const engines: Record<Language, Eta> = { yaml: createEta("yaml"), shell: createEta("shell") };

/** Renders a template's text (embedded or override) with the escaping of its language. */
export function renderTemplateText(name: TemplateName, text: string, data: object): string {
  const eta = engines[templates[name].language];
  const key = `@${name}:${Bun.hash(text)}`;
  eta.loadTemplate(key, text);
  return eta.render(key, data);
}

export function renderEmbedded(name: TemplateName, data: object): string {
  return renderTemplateText(name, templates[name].text, data);
}
