"""Fault injection for tests, kept out of the package: a training process SIGKILLed at a step.

    python tests/faults.py CONFIG.yaml STEP    trains CONFIG and kills itself at the end of step STEP,
                                               before that step's checkpoint (no cleanup: like the OOM
                                               killer or a lost node)
"""

import os
import signal
import sys

from transformers import TrainerCallback


class SigkillAtStep(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kw):
        if state.global_step >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    from mtsft.train.config import load_train_config
    from mtsft.train.loop import train

    train(load_train_config(sys.argv[1]), callbacks=(SigkillAtStep(int(sys.argv[2])),), log=lambda *_: None)
