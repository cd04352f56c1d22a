/**
 * Embedded eta templates (compose files), escaped as YAML scalars, and per-project overrides
 * (`templates/NAME.eta` in the working directory wins over the embedded one).
 */
import { Eta } from "eta/core";
import composeTemplate from "../../templates/compose.yaml.eta" with { type: "text" };
import clusterTestTemplate from "../../templates/cluster-test.compose.yaml.eta" with { type: "text" };
import { composeScalar } from "./escape.ts";

export const templates = {
  "compose.yaml": { text: composeTemplate },
  "cluster-test.compose.yaml": { text: clusterTestTemplate },
} as const satisfies Record<string, { text: string }>;

export type TemplateName = keyof typeof templates;
export const templateNames = Object.keys(templates) as TemplateName[];

const eta = new Eta({
  autoEscape: true,
  escapeFunction: composeScalar,
  // eta's default autoTrim eats the newline after every tag, `<%= %>` included, which
  // glues YAML lines together. Trim nothing implicitly; control lines end in `-%>` to drop
  // their own newline. (rmWhitespace stays off: it would break indentation.)
  autoTrim: false,
  cache: false,
  useWith: false,
});

/** Renders a template's text (embedded or override) with YAML-scalar escaping. */
export function renderTemplateText(name: TemplateName, text: string, data: object): string {
  const key = `@${name}:${Bun.hash(text)}`;
  eta.loadTemplate(key, text);
  return eta.render(key, data);
}
