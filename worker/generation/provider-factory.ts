import type { SectionConfig } from "../../shared/config/parse-config.ts";
import { ConfigError } from "../../shared/config/parse-config.ts";
import { createOpenAICompatibleProvider } from "./openai-compatible-provider.ts";
import { createProceduralProvider } from "./procedural-provider.ts";
import type { GenerationProvider } from "./provider.ts";

/** GENERATION_PROVIDER picks the image source; its own settings must then be present. */
export function createProvider(worker: SectionConfig<"worker">): GenerationProvider {
  if (worker.provider === "procedural") return createProceduralProvider();
  if (!worker.openaiBaseUrl)
    throw new ConfigError(["OPENAI_BASE_URL is required when GENERATION_PROVIDER=openai-compatible"]);
  return createOpenAICompatibleProvider({
    baseUrl: worker.openaiBaseUrl,
    apiKey: worker.openaiApiKey,
    model: worker.openaiModel,
    partialImages: worker.openaiPartialImages,
  });
}
