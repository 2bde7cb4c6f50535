# Sourced by scripts: WebGPU in Node over Chromium's SwiftShader Vulkan driver (platform.md).
# On a machine with a real Vulkan driver, set R2T_NATIVE_VULKAN=1 to keep the system ICD.
if [ -z "${R2T_NATIVE_VULKAN:-}" ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi
