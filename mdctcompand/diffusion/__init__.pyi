# The public names of ``mdctcompand.diffusion``, listed once (see __init__.py).
from .components import (
    MDCTImageConverter as MDCTImageConverter,
    resolve_device as resolve_device,
)
from .config import (
    TrainingConfig as TrainingConfig,
)
from .export import (
    export_fused as export_fused,
)
from .models import (
    build_stable_diffusion as build_stable_diffusion,
    sd15_unet_config as sd15_unet_config,
    small_unet_config as small_unet_config,
)
from .pipeline import (
    MDCTDiffusionPipeline as MDCTDiffusionPipeline,
    MDCTPipelineOutput as MDCTPipelineOutput,
    load_pipeline as load_pipeline,
)
from .training import (
    fixed_noise_loss as fixed_noise_loss,
    train as train,
)
