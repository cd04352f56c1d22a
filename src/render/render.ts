/**
 * Pure: Model → the files of `_build/`, each rendered from its template (embedded or
 * overridden) and, for YAML, parsed back before anything is written.
 */
import { renderClusterTest } from "./cluster-test.ts";
import { CslrError } from "../errors.ts";
import { clusterTokenSecret, composeView, gcsRedisPasswordSecret, paths, type ComposeInputs } from "./compose-data.ts";
import { composeScalar } from "./escape.ts";
import rayEntrypoint from "../../templates/ray-ep.sh" with { type: "text" };
import { joinInfoText } from "./join-info.ts";
import { pageInfoOf } from "./page-info.ts";
import { renderTemplateText, templates, type TemplateName } from "./engine.ts";

export interface RenderedFile {
  /** File name inside `_build/`. */
  name: string;
  content: string;
  mode: number;
}

/** Template texts by name: the embedded ones, with any project overrides on top. */
export type TemplateSet = Record<TemplateName, string>;

export function embeddedTemplateSet(): TemplateSet {
  return Object.fromEntries(Object.entries(templates).map(([name, t]) => [name, t.text])) as TemplateSet;
}

/** Renders YAML and proves it parses, so a broken template or override never reaches `_build/`. */
function renderYaml(name: TemplateName, render: () => string): string {
  let output: string;
  try {
    output = render();
  } catch (error) {
    throw new CslrError(`templates/${name}.eta: rendering failed: ${(error as Error).message.split("\n")[0]}`);
  }
  try {
    // Bun's native parser: ~0.5 ms where the yaml package needs ~10 ms in a cold process.
    const parsed = Bun.YAML.parse(output);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the output is not a mapping");
  } catch (error) {
    throw new CslrError(
      `templates/${name}.eta: the rendered ${name} is not valid YAML (${(error as Error).message.split("\n")[0]}); fix the template or remove the override`,
    );
  }
  return output;
}

export interface RenderInputs extends ComposeInputs {
  templates: TemplateSet;
}

/** The coordinator's join information, with host networking only (no secret in it). */
function joinInfoFile(inputs: RenderInputs): RenderedFile[] {
  const content = joinInfoText(inputs.model, inputs.hostAddress, inputs.version);
  return content === undefined ? [] : [{ name: "join-info.json", content, mode: 0o644 }];
}

/** What the lab page needs beyond the election, when the health service runs here (no secret in it). */
function pageInfoFile(inputs: RenderInputs): RenderedFile[] {
  const info = pageInfoOf(inputs.model, inputs.hostAddress);
  return info ? [{ name: "page.json", content: `${JSON.stringify(info, null, 2)}\n`, mode: 0o644 }] : [];
}

export function renderBuild(inputs: RenderInputs): RenderedFile[] {
  const view = { ...composeView(inputs), paths, tokenSecret: clusterTokenSecret, gcsSecret: gcsRedisPasswordSecret, esc: composeScalar };
  const { model, templates } = inputs;
  return [
    {
      name: "compose.yaml",
      content: renderYaml("compose.yaml", () => renderTemplateText("compose.yaml", templates["compose.yaml"], view)),
      mode: 0o644,
    },
    {
      name: "cluster-test.compose.yaml",
      content: renderYaml("cluster-test.compose.yaml", () =>
        renderClusterTest(
          model,
          { hostAddress: inputs.hostAddress, cslrBinary: inputs.cslrBinary, outDir: inputs.outDir, tls: inputs.tls },
          templates["cluster-test.compose.yaml"],
        ),
      ),
      mode: 0o644,
    },
    // Not a template: the agent reads everything from its environment (src/node/settings.ts).
    { name: "ray-ep.sh", content: rayEntrypoint, mode: 0o755 },
    ...joinInfoFile(inputs),
    ...pageInfoFile(inputs),
  ];
}
