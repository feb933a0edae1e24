"""DIETClassifier that loads in seconds instead of a minute.

Rasa rebuilds a stored DIET model by running one training step on one example, traced as a
TensorFlow graph; on 2 cores tracing that step took 72 of the 82 seconds of a model load. The
step exists only to create the variables before the trained weights are read over them, so
this class runs it eagerly, then traces the prediction graph as Rasa does. Training and
predictions are those of DIETClassifier: the loaded weights are the same.
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.utils.tensorflow.constants import RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class QuickLoadDIETClassifier(DIETClassifier):
    @classmethod
    def _load_model_class(
        cls,
        tf_model_file: str,
        model_data_example: RasaModelData,
        label_data: RasaModelData,
        entity_tag_specs: list[Any],
        config: dict[str, Any],
        finetune_mode: bool,
    ) -> RasaModel:
        if finetune_mode or config.get(RUN_EAGERLY):
            return super()._load_model_class(
                tf_model_file,
                model_data_example,
                label_data,
                entity_tag_specs,
                config,
                finetune_mode,
            )
        # Load without the warm-up prediction (finetune_mode skips it), eagerly ...
        model = super()._load_model_class(
            tf_model_file,
            model_data_example,
            label_data,
            entity_tag_specs,
            {**copy.deepcopy(config), RUN_EAGERLY: True},
            finetune_mode=True,
        )
        # ... then predict in graph mode, traced once now rather than on the first message.
        model.run_eagerly = False
        model.config[RUN_EAGERLY] = False
        predict_example = RasaModelData(
            label_key=model_data_example.label_key,
            data={name: features for name, features in model_data_example.items() if TEXT in name},
        )
        model.run_inference(predict_example)
        return model
